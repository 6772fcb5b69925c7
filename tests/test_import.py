import subprocess
import sys

import pytest

HEAVY = ("keras", "tensorflow", "torch", "jax")


@pytest.mark.parametrize(
    "module",
    [
        "kseq",
        "kseq.data",
        "kseq.transforms",
        "kseq.evaluation",
        "kseq.evaluation.panel_metrics",
        "kseq.data.panel",
        "kseq.evaluation.tables",
        "kseq.models.registry",
        "kseq.study.spec",
        "kseq.training_config",
        "kseq.backend",
        "kseq.recipes",
        "kseq.config",
        "kseq.recipes.airpassengers",
        "kseq.cli",
    ],
)
def test_import_loads_no_keras_or_backend(module):
    code = (
        f"import sys, {module}\n"
        f"from kseq.data import *\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
