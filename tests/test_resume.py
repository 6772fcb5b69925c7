"""Interrupted training loses nothing: checkpoints, SIGINT/SIGTERM, SIGKILL and --resume.

The end-to-end test kills `kseq run` subprocesses with SIGKILL, SIGINT and SIGTERM at random
points and resumes them until they finish; every finished run must match an uninterrupted one:
the same epochs per member, the same best epochs, the same validation scores and the same
weights (the three backends are deterministic on the CPU for this recipe).
"""

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

from kseq._keras import keras
from kseq.callbacks import (
    CheckpointState,
    ResumableEarlyStopping,
    clear_checkpoints,
    list_checkpoints,
    read_checkpoint,
    write_checkpoint,
)
from kseq.forecaster import Forecaster

CLI = [sys.executable, "-m", "kseq.cli"]
# Three of each signal (SIGKILL, SIGINT, SIGTERM), at random points: every phase of a run
# (first epoch, mid-training, between members, after training) is reached over the runs of
# the three backends, in ~2 minutes per backend.
INTERRUPTIONS = 9
# Interruptions of one run before it is left to finish (bounds the processes started).
PER_CHAIN = 3

RECIPE = """
[recipe]
name = "resume"
seed = 3

[data]
source = "airpassengers"

[split]
test = "1959-01"
validation = 12

[transforms]
log = true
difference = [12]
minmax = [-1.0, 1.0]

[windows]
lookback = 12

[model]
units = [8]
dropout = 0.2

[training]
epochs = 30
batch_size = 4
early_stopping = true
patience = 6
ensemble = 2
checkpoint_every = 1

[evaluation]
horizon = 12
season_length = 12
baselines = ["naive"]
"""


def _state(epoch, complete=False):
    rng = np.random.default_rng(epoch)
    return CheckpointState(
        epoch=epoch,
        history={"loss": [float(e) for e in range(epoch)]},
        variables=[rng.normal(size=(3, 2)).astype("float32"), np.array(epoch, "int64")],
        optimizer=[np.array(epoch * 10, "int64")],
        early_stopping={"wait": 1, "best": 0.5, "best_epoch": epoch - 1},
        best_variables=[np.ones((3, 2), "float32")],
        complete=complete,
    )


def test_checkpoints_round_trip_and_keep_the_two_newest(tmp_path):
    for epoch in (1, 2, 3):
        write_checkpoint(tmp_path, _state(epoch))
    assert [p.name[:17] for p in list_checkpoints(tmp_path)] == [
        "checkpoint-000003",
        "checkpoint-000002",
    ]
    state = read_checkpoint(tmp_path)
    expected = _state(3)
    assert state.epoch == 3 and state.history == expected.history and not state.complete
    assert state.early_stopping == expected.early_stopping
    for got, want in zip(state.variables, expected.variables, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(state.best_variables[0], expected.best_variables[0])
    clear_checkpoints(tmp_path)
    assert not tmp_path.exists() and read_checkpoint(tmp_path) is None


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_a_damaged_checkpoint_falls_back_to_the_previous_one(tmp_path, damage, caplog):
    write_checkpoint(tmp_path, _state(4))
    newest = write_checkpoint(tmp_path, _state(5))
    data = newest.read_bytes()
    if damage == "truncate":
        newest.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        newest.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    else:
        newest.write_bytes(b"")
    with caplog.at_level("WARNING", logger="kseq"):
        state = read_checkpoint(tmp_path)
    assert state.epoch == 4
    assert "is damaged" in caplog.text and newest.name in caplog.text


def test_temporary_files_of_a_killed_write_are_ignored(tmp_path):
    write_checkpoint(tmp_path, _state(2))
    # What a kill during a write leaves: the temporary file, never renamed.
    (tmp_path / ".checkpoint-000003-abc.npz.x1y2").write_bytes(b"PK\x03\x04 partial")
    assert read_checkpoint(tmp_path).epoch == 2


def test_early_stopping_counters_survive_a_restart():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    stopper = ResumableEarlyStopping(monitor="loss", patience=3, restore_best_weights=True)
    stopper.set_model(model)
    stopper.on_train_begin()
    for epoch, loss in enumerate([1.0, 0.5, 0.7]):
        stopper.on_epoch_end(epoch, {"loss": loss})
    counters, weights = stopper.get_state()
    assert counters == {"wait": 1, "best": 0.5, "best_epoch": 1}
    json.dumps(counters)  # plain JSON values
    again = ResumableEarlyStopping(monitor="loss", patience=3, restore_best_weights=True)
    again.set_model(model)
    again.restore(counters, weights)
    again.on_train_begin()  # Keras resets the counters here; the saved ones come back
    assert again.get_state()[0] == counters
    for got, want in zip(again.get_state()[1], weights, strict=True):
        np.testing.assert_array_equal(got, want)


# End to end --------------------------------------------------------------------------------


def _run(recipe, out, resume=False):
    """Starts `kseq run`; its stderr goes to a file, not a pipe: a pipe that nobody reads
    while the test waits for checkpoints would stop the run once its buffer filled."""
    command = CLI + ["run", str(recipe), "--out", str(out), "--quiet"]
    stderr = tempfile.TemporaryFile("w+")
    process = subprocess.Popen(
        command + (["--resume"] if resume else []),
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )
    return process, stderr


def _wait(process, stderr, timeout):
    """The exit code and stderr of a started run."""
    process.wait(timeout=timeout)
    stderr.seek(0)
    text = stderr.read()
    stderr.close()
    return process.returncode, text


def _finished(out):
    card = json.loads((out / "run_card.json").read_text())
    weights = Forecaster.load(out / "forecaster").model.get_weights()
    return card, weights


def _checkpoints(out):
    """The checkpoint files there now (paths relative to `out`). The run deletes its
    checkpoints when it finishes, possibly while this looks at them, so a vanished file or
    folder counts as none."""
    try:
        return {str(p.relative_to(out)) for p in (out / "checkpoints").rglob("checkpoint-*.npz")}
    except FileNotFoundError:
        return set()


def _interrupt(started, out, how, rng, checkpoints):
    """Waits until this attempt has written `checkpoints` new checkpoints (or ended, or wrote
    none for 120 s), then signals at a random point within the next second; returns the exit
    code and stderr."""
    process, stderr = started
    seen = _checkpoints(out)
    before = len(seen)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        now = _checkpoints(out)
        if now - seen:
            seen |= now
            deadline = time.monotonic() + 120
        if len(seen) - before >= checkpoints:
            break
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 1.0))
    if process.poll() is None:
        process.send_signal(how)
    return _wait(process, stderr, timeout=300)


@pytest.mark.slow
def test_runs_killed_at_random_points_resume_to_the_uninterrupted_result(tmp_path):
    recipe = tmp_path / "resume.toml"
    recipe.write_text(RECIPE)
    reference = tmp_path / "reference"
    code, stderr = _wait(*_run(recipe, reference), timeout=600)
    assert code == 0, stderr
    card, weights = _finished(reference)
    assert not (reference / "checkpoints").exists()  # a finished run keeps none
    assert not any(p.name.startswith("member_") for p in reference.iterdir())

    # Each chain is interrupted at most PER_CHAIN times, each time after a random number of
    # new checkpoints (up to a twelfth of the run's epochs) and a random wait of up to a
    # second (tens of epochs here), so the kills reach every phase of a run; then it is
    # resumed once more and left to finish, so the processes started stay bounded (~16).
    # Interrupting after every new checkpoint until a run happened to finish started ~21
    # processes of ~6 s each on an idle machine, and once took 52 minutes on a loaded one.
    epochs = sum(card["epochs_run_per_member"])
    rng = random.Random(int(os.environ.get("PYTHONHASHSEED", "0") or 0) + 17)
    interrupted, chain = 0, 0
    while interrupted < INTERRUPTIONS and chain < 2 * INTERRUPTIONS // PER_CHAIN:
        out = tmp_path / f"chain_{chain}"
        code, resume = None, False
        for _ in range(PER_CHAIN):
            how = (signal.SIGKILL, signal.SIGINT, signal.SIGTERM)[interrupted % 3]
            wait = rng.randint(1, max(1, epochs // 12))
            code, stderr = _interrupt(_run(recipe, out, resume), out, how, rng, wait)
            if code == 0:
                break
            interrupted += 1
            resume = True
            assert "Traceback" not in stderr, stderr
            if how != signal.SIGKILL:
                lines = stderr.strip().splitlines()
                assert code == 128 + how, stderr
                assert lines[-1].startswith(f"kseq: stopped by {how.name}"), stderr
                assert "--resume" in lines[-1]
            else:
                assert code == -signal.SIGKILL
        if code != 0:
            code, stderr = _wait(*_run(recipe, out, resume=True), timeout=600)
            assert code == 0, stderr
        resumed_card, resumed_weights = _finished(out)
        for key in ("epochs_run", "epochs_run_per_member", "best_epoch_per_member"):
            assert resumed_card[key] == card[key], key
        assert resumed_card["validation"] == card["validation"]
        for got, want in zip(resumed_weights, weights, strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
        assert not (out / "checkpoints").exists()
        chain += 1
    # Runs that finish before their kill leave fewer; two of each signal at least.
    assert interrupted >= 6, f"only {interrupted} interruptions in {chain} runs"


def test_a_stop_that_lands_in_a_garbage_collector_callback_is_raised_after_it(capsys):
    import gc

    from kseq.callbacks import InterruptGuard
    from kseq.errors import TrainingInterrupted

    fired = []

    def callback(phase, info):
        # The signal's handler runs between two bytecodes of this callback, where an exception
        # is not propagated (what JAX's own gc callback met under a random SIGTERM).
        if phase == "start" and not fired:
            fired.append(signal.SIGTERM)
            signal.raise_signal(signal.SIGTERM)
            fired.append("after")

    gc.callbacks.append(callback)
    try:
        with pytest.raises(TrainingInterrupted, match="SIGTERM outside training"):
            with InterruptGuard() as guard:
                gc.collect()
                for _ in range(200):  # the signal, delivered again, is raised here
                    time.sleep(0.01)
    finally:
        gc.callbacks.remove(callback)
    assert fired == [signal.SIGTERM]  # the handler ran inside the callback
    assert guard.received == signal.SIGTERM
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_a_stop_replaced_by_a_library_s_own_error_is_still_the_stop():
    from kseq.callbacks import InterruptGuard
    from kseq.errors import TrainingInterrupted

    # TensorFlow's graph tracing (C++ via pybind11) hands on a RuntimeError in place of the
    # exception a signal handler raised inside it.
    with pytest.raises(TrainingInterrupted, match="SIGINT outside training") as caught:
        with InterruptGuard() as guard:
            guard.received = signal.SIGINT
            raise RuntimeError("MISMATCH of original and normalized active exception types")
    assert isinstance(caught.value.__cause__, RuntimeError)
    # Without a signal, an error is the error.
    with pytest.raises(RuntimeError, match="plain"):
        with InterruptGuard():
            raise RuntimeError("plain")
