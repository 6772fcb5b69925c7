"""Optuna studies: outputs, resuming after a kill, pruning."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

optuna = pytest.importorskip("optuna")
from optuna.trial import TrialState  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402 (Optuna's own dependency)

from kseq.config import load_recipe  # noqa: E402
from kseq.errors import ConfigError, KseqWarning  # noqa: E402
from kseq.study import load_study, run_study  # noqa: E402
from kseq.study.worker import retried_trial_number  # noqa: E402

pytestmark = pytest.mark.slow

STUDY = """
[study]
name = "tiny"
recipe = "sines"
objective = "validation.recursive.rmse"
sampler = "grid"
pruner = "none"
trials = 4

[overrides]
"split.validation" = 20
"model.units" = 4
"model.num_layers" = 1
"training.epochs" = 2
"training.steps_per_epoch" = 2
"evaluation.forecast_steps" = 0

[space]
"training.learning_rate" = [0.01, 0.001]
"model.forget_bias" = [1.0, 0.5]
"""


def write_study(tmp_path, text=STUDY):
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    return path


def finished(storage):
    study = optuna.load_study(study_name="tiny", storage=storage)
    return [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]


def test_study_outputs(tmp_path):
    summary = run_study(write_study(tmp_path), out_dir=tmp_path / "out")
    out = tmp_path / "out"
    assert summary.trials == 4
    rows = (out / "results.csv").read_text().strip().splitlines()
    assert len(rows) == 5 and rows[0].startswith(
        "trial,state,training.learning_rate,model.forget_bias"
    )
    assert all(",COMPLETE," in row for row in rows[1:])
    assert {"param_training_learning_rate.png", "param_model_forget_bias.png"} == set(summary.plots)
    assert "| trial | state |" in (out / "results.md").read_text()
    best = load_recipe(out / "best_recipe.toml")
    study = optuna.load_study(study_name="tiny", storage=summary.storage)
    assert best.training.learning_rate == study.best_params["training.learning_rate"]
    assert best.model.forget_bias == study.best_params["model.forget_bias"]
    grid = {
        (t.params["training.learning_rate"], t.params["model.forget_bias"]) for t in study.trials
    }
    assert len(grid) == 4  # every grid point once
    # Re-running a finished study runs nothing new.
    assert run_study(write_study(tmp_path), out_dir=out).trials == 4


def test_killed_study_resumes_without_repeating_finished_trials(tmp_path):
    path = write_study(tmp_path, STUDY.replace('"training.epochs" = 2', '"training.epochs" = 20'))
    out = tmp_path / "out"
    storage = f"sqlite:///{out / 'study.db'}"
    log = open(tmp_path / "study.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "kseq.cli", "study", str(path), "--out", str(out)],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    # Watch the file system, not the database: a second SQLite client can lock out the study.
    # The last trial's folder appears only once the three before it are reported complete, and
    # its run card only when it ends: kill inside that window (the whole of its training), so
    # exactly three trials are finished and the fourth is cut off mid-trial.
    last = out / "trials" / "trial_0003"
    deadline = time.time() + 300
    try:
        while time.time() < deadline:
            time.sleep(0.02)
            if last.is_dir() and not (last / "run_card.json").exists():
                break
            assert process.poll() is None, (tmp_path / "study.log").read_text()[-2000:]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log.close()
    before = {t.number: t.params for t in finished(storage)}
    assert sorted(before) == [0, 1, 2]
    run_study(path, out_dir=out)
    after = finished(storage)
    assert len(after) == 4
    for trial in after:
        if trial.number in before:
            assert trial.params == before[trial.number]
    grid = [tuple(sorted(t.params.items())) for t in after]
    assert len(set(grid)) == 4  # no finished point was run twice


def test_study_validates_what_run_validates(tmp_path):
    # A value `kseq run` would refuse fails when the study is read, not in a trial.
    bad = STUDY.replace('"model.forget_bias" = [1.0, 0.5]', '"windows.lookback" = [8, 0]')
    with pytest.raises(ConfigError, match=r"\[windows\] lookback must be >= 1; received 0"):
        load_study(write_study(tmp_path, bad))
    recipe = tmp_path / "r.toml"
    recipe.write_text("[windows]\nlookback = 3\n")
    with pytest.raises(ConfigError, match="is a recipe, not a study"):
        load_study(recipe)


def test_study_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="'model.unit' is not a recipe key"):
        load_study(write_study(tmp_path, STUDY.replace('"model.forget_bias"', '"model.unit"')))
    with pytest.raises(ConfigError, match="objective 'test.rmse' must be validation"):
        load_study(write_study(tmp_path, STUDY.replace("validation.recursive.rmse", "test.rmse")))


@pytest.fixture
def postgresql_url():
    """A fresh database on the PostgreSQL server named by KSEQ_TEST_POSTGRESQL (`.ci/run`
    starts one with `.ci/start-postgresql`); dropped afterwards."""
    url = os.environ.get("KSEQ_TEST_POSTGRESQL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must start PostgreSQL (.ci/start-postgresql) for this test.")
        pytest.skip("no PostgreSQL server: export KSEQ_TEST_POSTGRESQL=$(.ci/start-postgresql)")
    psycopg = pytest.importorskip("psycopg")
    name = f"kseq_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_shared_postgresql_study_reruns_the_trial_of_a_killed_worker(tmp_path, postgresql_url):
    # Two `kseq study` commands on one database, as on two machines; the second is killed
    # (SIGKILL) inside a trial. The first fails that trial once its heartbeat is older than the
    # grace period, runs it again, and ends with every grid point finished exactly once.
    text = STUDY.replace('"training.epochs" = 2', '"training.epochs" = 30').replace(
        "trials = 4", "trials = 6\nheartbeat_seconds = 1"
    )
    text = text.replace('"model.forget_bias" = [1.0, 0.5]', '"model.forget_bias" = [1.0, 0.5, 0.0]')
    path = write_study(tmp_path, text)
    command = [sys.executable, "-m", "kseq.cli", "study", str(path), "--storage", postgresql_url]
    logs = [open(tmp_path / f"worker{i}.log", "w") for i in range(2)]  # noqa: SIM115
    # One storage for all the test's looks, each look on a connection of its own that is closed
    # after it: a fresh `load_study(storage=url)` every 0.1 s leaves pooled connections open
    # until garbage collection (40 at once here), and three backends' runs of this test on one
    # server then exhausted its 100 connection slots.
    storage = optuna.storages.RDBStorage(postgresql_url, engine_kwargs={"poolclass": NullPool})

    def start(i):
        return subprocess.Popen(
            [*command, "--out", str(tmp_path / f"out{i}")],
            stdout=logs[i],
            stderr=logs[i],
            start_new_session=True,
        )

    def poll_study(found):
        """Looks at the study every 0.1 s (the first worker must stay alive) until
        `found(study)` returns something; returns it, or `None` after 300 s."""
        deadline = time.time() + 300
        while time.time() < deadline:
            time.sleep(0.1)
            assert first.poll() is None, (tmp_path / "worker0.log").read_text()[-2000:]
            try:
                study = optuna.load_study(study_name="tiny", storage=storage)
            except KeyError:
                continue  # not created yet
            result = found(study)
            if result is not None:
                return result
        return None

    def kill_second_in_a_trial(study):
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if trial.user_attrs.get("worker", "").endswith(f":{second.pid}"):
                os.killpg(second.pid, signal.SIGKILL)
                return trial
        return None

    first, second = start(0), None
    try:
        queued = poll_study(lambda study: len(study.get_trials(deepcopy=False)) >= 6 or None)
        assert queued, "the first worker never queued the grid"
        # The second worker starts once the first has queued the grid: two workers queueing at
        # the same moment may queue a point twice, and that point's twin (not the retry) may
        # re-run the killed trial — also correct (every point once), but then this test could
        # not see the retry.
        second = start(1)
        killed = poll_study(kill_second_in_a_trial)
        assert killed is not None, "the second worker never ran a trial"
        assert first.wait(timeout=600) == 0, (tmp_path / "worker0.log").read_text()[-2000:]
    finally:
        for process in (p for p in (first, second) if p is not None):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for log in logs:
            log.close()
    study = optuna.load_study(study_name="tiny", storage=storage)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    assert trials[killed.number].state == TrialState.FAIL
    complete = [t for t in trials.values() if t.state == TrialState.COMPLETE]
    points = [tuple(sorted(t.params.items())) for t in complete]
    assert len(points) == 6 and len(set(points)) == 6  # every grid point, none twice
    (rerun,) = [t for t in complete if retried_trial_number(t) == killed.number]
    assert rerun.params == killed.system_attrs["fixed_params"]
    assert rerun.user_attrs["worker"].endswith(f":{first.pid}")
    table = pd.read_csv(tmp_path / "out0" / "results.csv")
    assert (table["state"] == "COMPLETE").sum() == 6
    assert table.loc[table["trial"] == rerun.number, "retry_of"].item() == killed.number
    # Resumed (the same command again): nothing left to run, nothing run twice.
    summary = run_study(path, storage=postgresql_url, out_dir=tmp_path / "out0")
    again = optuna.load_study(study_name="tiny", storage=storage)
    assert summary.failed_workers == 0
    assert sum(t.state == TrialState.COMPLETE for t in again.trials) == 6


def test_a_panel_study_reads_the_net_s_validation_mase(tmp_path):
    rng = np.random.default_rng(0)
    months = pd.date_range("2010-01-01", periods=60, freq="MS")
    frame = pd.concat(
        pd.DataFrame({"unique_id": f"s{i}", "ds": months, "y": 50 + i + rng.normal(0, 1, 60)})
        for i in range(4)
    )
    frame.to_csv(tmp_path / "panel.csv", index=False)
    (tmp_path / "panel.toml").write_text(
        "[recipe]\nname = 'p'\n[data]\nsource = 'panel'\npath = 'panel.csv'\n"
        "[training]\nepochs = 1\nensemble = 1\nsteps_per_epoch = 2\n"
    )
    text = (
        '[study]\nname = "tiny"\nrecipe = "panel.toml"\nobjective = "validation.kseq.mase"\n'
        'trials = 1\n[space]\n"windows.lookback" = [6]\n'
    )
    with pytest.raises(ConfigError, match=r"a panel recipe's study reads .*validation\.kseq"):
        load_study(
            write_study(tmp_path, text.replace("validation.kseq.mase", "validation.best_val_loss"))
        )
    summary = run_study(write_study(tmp_path, text), out_dir=tmp_path / "out")
    study = optuna.load_study(study_name="tiny", storage=summary.storage)
    trial = study.trials[0]
    card = json.loads((Path(trial.user_attrs["run_dir"]) / "run_card.json").read_text())
    assert trial.value == pytest.approx(card["panel"]["validation"]["mase"]["kseq"])


def test_trials_whose_objective_is_not_a_number_end_the_study_at_its_budget(tmp_path, monkeypatch):
    # Every trial's objective NaN (a learning rate that diverges everywhere): Optuna fails
    # them; the study used to sample new ones forever, as only finished trials counted.
    import kseq.study.worker as worker

    monkeypatch.setattr(worker, "objective_value", lambda card, objective: float("nan"))
    text = STUDY.replace('sampler = "grid"', 'sampler = "random"').replace(
        "trials = 4", "trials = 2"
    )
    with pytest.warns(KseqWarning, match=r"Trial \d \(.*\) failed: its objective is not a number"):
        summary = run_study(write_study(tmp_path, text), out_dir=tmp_path / "out")
    assert summary.trials == 2 and summary.best is None
    results = pd.read_csv(tmp_path / "out" / "results.csv")
    assert list(results["state"]) == ["FAIL", "FAIL"]
