"""Hyperparameter studies on Optuna over recipes, scored on validation (never the test part).

`spec` reads a study file, `worker` runs trials on a shared storage, `pruning` stops hopeless
trials from Keras, `report` writes the tables, plots and the best recipe. See `kseq.study.spec`
for the file format.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

from kseq.study.spec import StudySpec, load_study

__all__ = ["StudySpec", "StudySummary", "load_study", "run_study"]


@dataclass(frozen=True)
class StudySummary:
    """Where a study's results are and how far it got."""

    out_dir: str
    storage: str
    trials: int
    best: int | None
    plots: list
    # Worker processes that ended with an error or a signal; their trials were re-run by the
    # others (or are re-run by the next `kseq study` of the same study).
    failed_workers: int = 0


def run_study(path, *, storage=None, workers=1, out_dir=None, epochs=None, backend=None, verbose=0):
    """Runs (or resumes) a study; returns a `StudySummary`. See `kseq.study.spec`."""
    import subprocess

    from kseq.study.report import write_outputs
    from kseq.study.worker import (
        check_storage,
        fail_stale_trials,
        is_shared,
        make_study,
        queue_grid,
        run_worker,
        storage_url,
    )

    spec = load_study(path)
    out_dir = Path(out_dir or spec.settings.output_dir.format(name=spec.settings.name))
    out_dir.mkdir(parents=True, exist_ok=True)
    url = storage_url(storage, out_dir)
    check_storage(url)
    if not is_shared(url):
        # SQLite serves one machine, and its workers start here: a RUNNING trial died with its
        # process. (On a shared database, heartbeats tell the dead from the busy.)
        fail_stale_trials(url, spec.settings.name)
    if spec.settings.sampler == "grid":
        queue_grid(make_study(spec, url), spec.space, spec.settings.seed)
    processes = []
    for _ in range(max(workers, 1) - 1):
        command = [
            sys.executable,
            "-m",
            "kseq.cli",
            "study",
            str(spec.path),
            "--storage",
            url,
            "--out",
            str(out_dir),
            "--worker",
        ]
        if epochs is not None:
            command += ["--epochs", str(epochs)]
        if backend is not None:
            command += ["--backend", backend]
        processes.append(subprocess.Popen(command))
    study = run_worker(spec, url, out_dir, epochs=epochs, verbose=verbose)
    failed = sum(1 for p in processes if p.wait())
    report = write_outputs(spec, study, out_dir)
    return StudySummary(
        str(out_dir), url, len(study.trials), report.best, report.plots, failed_workers=failed
    )
