import json
import os
import subprocess
import sys

import keras
import pytest

from kseq import backend as kb
from kseq.errors import BackendError


def test_active_backend_is_the_one_chosen(backend):
    # What tox (KERAS_BACKEND) or the user's keras.json chose is what Keras runs.
    chosen = os.environ.get("KERAS_BACKEND") or kb._keras_json_backend()[0]
    assert backend == chosen and backend in kb.installed_backends()


def test_select_backend_after_import_refuses_another(backend):
    assert kb.select_backend(backend) == backend
    other = next(b for b in kb.BACKENDS if b != backend)
    with pytest.raises(BackendError, match="already imported"):
        kb.select_backend(other)


def _run(code, env_updates, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(env_updates)
    env["KERAS_HOME"] = str(tmp_path)  # no keras.json unless a test writes one
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_missing_backend_gives_one_line_naming_the_extra(tmp_path):
    # Pretend only the active backend is installed, then name another one.
    active = keras.backend.backend()
    missing = next(b for b in kb.BACKENDS if b != active)
    code = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        f"importlib.util.find_spec = lambda n, *a: None if n == {missing!r} else real(n, *a)\n"
        "from kseq.cli import main\n"
        f"sys.exit(main(['run', 'airpassengers', '--backend', {missing!r}]))\n"
    )
    result = _run(code, {}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"pip install 'kseq[{missing}]'" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("absent", kb.BACKENDS)
def test_uninstalled_backend_in_the_env_var_is_reported(absent, tmp_path):
    code = (
        "import importlib.util\n"
        "real = importlib.util.find_spec\n"
        f"importlib.util.find_spec = lambda n, *a: None if n == {absent!r} else real(n, *a)\n"
        "from kseq.backend import select_backend\n"
        "select_backend()\n"
    )
    result = _run(code, {"KERAS_BACKEND": absent}, tmp_path)
    assert result.returncode != 0
    assert f"kseq[{absent}]" in result.stderr.splitlines()[-1]


def test_no_env_and_no_keras_json_picks_an_installed_backend_and_says_so(tmp_path):
    code = (
        "import logging; logging.basicConfig(level=logging.INFO)\n"
        "from kseq.backend import select_backend\n"
        "print(select_backend())\n"
        "import keras; print(keras.backend.backend())\n"
    )
    result = _run(code, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    chosen, used = result.stdout.split()
    assert chosen == used and chosen in kb.installed_backends()
    assert f"uses the installed backend '{chosen}'" in result.stderr


def test_keras_json_naming_an_absent_backend_falls_back(tmp_path):
    active = keras.backend.backend()
    missing = next(b for b in kb.BACKENDS if b != active)
    (tmp_path / "keras.json").write_text(json.dumps({"backend": missing}))
    code = (
        "import importlib.util\n"
        "real = importlib.util.find_spec\n"
        f"importlib.util.find_spec = lambda n, *a: None if n == {missing!r} else real(n, *a)\n"
        "import logging; logging.basicConfig()\n"
        "from kseq.backend import select_backend\n"
        "print(select_backend())\n"
    )
    result = _run(code, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() != missing
    assert "not installed" in result.stderr


def test_keras_json_as_keras_writes_it_is_not_a_choice(tmp_path):
    # A first `import keras` with no keras.json writes one naming TensorFlow (whatever backend
    # runs): that file must not make kseq warn about an uninstalled backend, or pick it.
    first = _run("import keras", {"KERAS_BACKEND": keras.backend.backend()}, tmp_path)
    assert first.returncode == 0, first.stderr
    written = json.loads((tmp_path / "keras.json").read_text())
    assert written["backend"] == "tensorflow"
    code = (
        "import logging; logging.basicConfig(level=logging.WARNING)\n"
        "from kseq.backend import select_backend\n"
        "print(select_backend())\n"
    )
    installed = kb.installed_backends()
    result = _run(code, {}, tmp_path)
    assert result.returncode == 0, result.stderr
    # The first installed backend in kseq's own order, as with no keras.json at all.
    assert result.stdout.strip() == next(
        b for b in ("jax", "tensorflow", "torch") if b in installed
    )
    assert "WARNING" not in result.stderr, result.stderr
    # The same file with one value the user changed is theirs: its backend is a choice.
    (tmp_path / "keras.json").write_text(json.dumps({**written, "epsilon": 1e-6}))
    result = _run(code, {}, tmp_path)
    if "tensorflow" in installed:
        assert result.stdout.strip() == "tensorflow"
    else:
        assert "names backend 'tensorflow', which is not installed" in result.stderr
