"""Data-parallel training (``[training] distribution = "data_parallel"``) on two CPU devices.

``KSEQ_CPU_DEVICES=2`` splits the host CPU into two devices (JAX: XLA's host platform device
count; TensorFlow: two logical CPUs), which must happen before the backend starts, so every
run is a fresh `python -m kseq.cli` process. The same recipe is trained on one device and on
two; on JAX the batch is sharded over the devices and the numbers are the same up to float
reduction order, on TensorFlow `MirroredStrategy` draws dropout masks per replica, so the
metrics agree within noise. PyTorch has no data-parallel engine in Keras 3.15: one line, exit 2.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kseq.data.window_dataset import WindowDataset
from kseq.data.windows import count_served_windows

CLI = [sys.executable, "-m", "kseq.cli"]


def run_cli(args, out, devices=2):
    env = {**os.environ, "KSEQ_CPU_DEVICES": str(devices)}
    result = subprocess.run(
        [*CLI, *args, "--out", str(out), "--quiet"], capture_output=True, text=True, env=env
    )
    card = None
    if result.returncode == 0:
        card = json.loads((out / "run_card.json").read_text())
    return result, card


def test_served_windows_leave_out_the_remainder_of_the_last_batch_only():
    assert count_served_windows(50, 16, 1) == 50
    assert count_served_windows(50, 16, 4) == 48  # last batch 2 -> 0
    assert count_served_windows(53, 16, 4) == 52  # last batch 5 -> 4
    assert count_served_windows(64, 16, 4) == 64  # no partial batch
    with pytest.raises(ValueError, match="cannot fill one batch share"):
        count_served_windows(1, 16, 2)
    x = np.arange(53, dtype="float32").reshape(53, 1, 1)
    data = WindowDataset(x, x, 16, shuffle=True, seed=0, batch_multiple=4)
    sizes = [len(data[i][0]) for i in range(len(data))]
    assert sizes == [16, 16, 16, 4]
    seen = np.concatenate([data[i][0].ravel() for i in range(len(data))])
    assert len(np.unique(seen)) == 52  # each served window once, one left out
    data.on_epoch_end()
    left_out = set(range(53)) - set(np.concatenate([data[i][0].ravel() for i in range(4)]))
    assert len(left_out) == 1


@pytest.mark.slow
def test_airpassengers_trains_data_parallel_with_the_metrics_of_one_device(tmp_path, backend):
    args = [
        "run",
        "airpassengers",
        "--epochs",
        "8",
        "--set",
        "training.ensemble=1",
        "--set",
        "evaluation.baselines=['naive']",
    ]
    parallel, card = run_cli(
        [*args, "--set", "training.distribution=data_parallel"], tmp_path / "p"
    )
    if backend == "torch":
        assert parallel.returncode == 2, parallel.stderr
        lines = parallel.stderr.strip().splitlines()
        assert "Traceback" not in parallel.stderr
        assert "not supported on the PyTorch backend" in lines[-1]
        assert "JAX or TensorFlow" in lines[-1]
        return
    assert parallel.returncode == 0, parallel.stderr[-3000:]
    single, reference = run_cli(args, tmp_path / "s")
    assert single.returncode == 0, single.stderr[-3000:]
    assert reference["distribution"] is None
    assert card["distribution"]["replicas"] == 2 and card["distribution"]["processes"] == 1
    assert "2 devices" in (tmp_path / "p" / "run_card.md").read_text()
    assert card["epochs_run"] == reference["epochs_run"] == 8
    key = "kseq (recursive, 24-step)"
    if backend == "jax":
        # One program sharded over two devices: the same numbers.
        np.testing.assert_allclose(card["final_loss"], reference["final_loss"], rtol=1e-4)
        assert card["metrics"][key]["mape"] == pytest.approx(
            reference["metrics"][key]["mape"], rel=1e-4
        )
    else:
        # Per-replica dropout masks: another draw of the same training, within noise.
        assert card["final_loss"] == pytest.approx(reference["final_loss"], rel=0.25)
        assert card["metrics"][key]["mape"] == pytest.approx(
            reference["metrics"][key]["mape"], abs=1.5
        )


def _write_panel(folder):
    rng = np.random.default_rng(0)
    parts = []
    for i, n in enumerate((60, 48, 72, 54)):
        t = np.arange(n)
        y = (40 + 10 * i) * (1 + 0.003 * t) * (1 + 0.1 * np.sin(2 * np.pi * t / 12))
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2010-01-01", periods=n, freq="MS"),
                    "y": y * (1 + 0.01 * rng.normal(size=n)),
                }
            )
        )
    pd.concat(parts).to_csv(folder / "panel.csv", index=False)
    recipe = folder / "panel.toml"
    recipe.write_text(
        "[recipe]\nname = 'panel'\n[data]\nsource = 'panel'\npath = 'panel.csv'\n"
        "[split]\ntest = 6\nvalidation = 6\n[windows]\nlookback = 12\nhorizon = 6\n"
        "[model]\nunits = [8]\n[training]\nepochs = 3\nbatch_size = 16\nensemble = 1\n"
        "steps_per_epoch = 20\n"
        "[evaluation]\nseason_length = 12\nbaselines = ['seasonal_naive', 'ets']\n"
    )
    return recipe


@pytest.mark.slow
def test_a_panel_trains_data_parallel_with_the_metrics_of_one_device(tmp_path, backend):
    if backend == "torch":
        pytest.skip("PyTorch has no data-parallel engine (the AirPassengers test checks its error)")
    pytest.importorskip("statsforecast")
    recipe = str(_write_panel(tmp_path))
    parallel, card = run_cli(
        ["run", recipe, "--set", "training.distribution=data_parallel"], tmp_path / "p"
    )
    assert parallel.returncode == 0, parallel.stderr[-3000:]
    single, reference = run_cli(["run", recipe], tmp_path / "s")
    assert single.returncode == 0, single.stderr[-3000:]
    assert card["distribution"]["replicas"] == 2
    kseq, ref = card["metrics"]["kseq"]["mase"], reference["metrics"]["kseq"]["mase"]
    if backend == "jax":
        assert kseq == pytest.approx(ref, rel=1e-4)
    else:
        assert kseq == pytest.approx(ref, rel=0.2)
