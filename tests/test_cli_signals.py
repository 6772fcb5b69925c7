"""What a person sees when they stop a command early or redirect its output."""

import os
import signal
import subprocess
import sys

import numpy as np
import pandas as pd

from kseq.cli import describe_stop, main
from kseq.errors import TrainingInterrupted

CLI = [sys.executable, "-m", "kseq.cli"]


def test_ctrl_c_during_the_imports_stops_with_one_line(tmp_path):
    # A real Ctrl-C: SIGINT to the command's whole process group, sent as soon as it says which
    # recipe it runs — before Keras and the backend are imported (seconds).
    process = subprocess.Popen(
        CLI + ["run", "airpassengers", "--out", str(tmp_path / "run"), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    before = [process.stderr.readline()]
    while before[-1] and "kseq: recipe" not in before[-1]:
        before.append(process.stderr.readline())  # a log line may come first
    assert "kseq: recipe" in before[-1], before
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    lines = err.strip().splitlines()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert len(lines) == 1 and lines[0].startswith("kseq: "), err
    assert "interrupted before training started" in lines[0]
    assert not (tmp_path / "run" / "run_card.json").exists()


def test_a_stop_before_the_first_checkpoint_offers_no_resume(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints" / "member_0").mkdir(parents=True)
    error = TrainingInterrupted("stopped by SIGINT in epoch 1 of member 1", signal.SIGINT)
    message = describe_stop(error, run_dir)
    assert "nothing to resume" in message and not error.resumable
    # Once a checkpoint file exists, the line names where the checkpoints are.
    (run_dir / "checkpoints" / "member_0" / "state.npz").write_bytes(b"x")
    error = TrainingInterrupted("stopped by SIGINT in epoch 3 of member 1", signal.SIGINT)
    message = describe_stop(error, run_dir)
    assert str(run_dir / "checkpoints") in message and error.resumable


def test_the_stop_line_offers_resume_only_where_a_checkpoint_exists(tmp_path, monkeypatch, capsys):
    def stop(args, backend):
        error = TrainingInterrupted("stopped by SIGINT in epoch 1 of member 1", signal.SIGINT)
        error.args = (describe_stop(error, tmp_path),)
        raise error

    monkeypatch.setitem(sys.modules["kseq.cli"]._COMMANDS, "run", stop)
    assert main(["run", "airpassengers", "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert "nothing to resume" in err and "--resume" not in err
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "state.npz").write_bytes(b"x")
    assert main(["run", "airpassengers", "--out", str(tmp_path)]) == 130
    assert "to continue: kseq run airpassengers" in capsys.readouterr().err


def test_redirected_output_has_no_progress_bar_escapes(tmp_path):
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2020-01-01", periods=60, freq="D"),
            "sales": 10 + np.sin(np.arange(60) / 3),
        }
    )
    frame.to_csv(tmp_path / "sales.csv", index=False)
    recipe = tmp_path / "sales.toml"
    recipe.write_text(
        "[recipe]\nname = 'sales'\n[data]\nsource = 'csv'\n"
        f"path = '{tmp_path / 'sales.csv'}'\ntime_column = 'date'\ntarget_columns = 'sales'\n"
        "[split]\ntest = 7\nvalidation = 7\n[windows]\nlookback = 7\n[model]\nunits = [4]\n"
        "[training]\nepochs = 3\nensemble = 2\n[evaluation]\nbaselines = ['naive']\n"
    )
    # Not a terminal: stdout is a pipe.
    result = subprocess.run(
        CLI + ["run", str(recipe), "--out", str(tmp_path / "run")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    for character in ("\b", "\r", "\x1b"):
        assert character not in result.stdout, repr(result.stdout[:300])
    assert "| kseq (one-step) |" in result.stdout
    # One progress line for the training stage (both members), not one per update.
    # (the bar's lines give a rate per epoch; the card's notes may name an epochs key)
    assert sum("/epoch" in line for line in result.stdout.splitlines()) == 1
