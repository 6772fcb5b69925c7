"""The pretrained network's commands: forecast a CSV without training, benchmark it on a
competition, pretrain it on the corpus. Each writes its files atomically."""

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd

from kseq._io import write_text_atomic
from kseq._keras import keras
from kseq.callbacks import InterruptGuard
from kseq.evaluation.panel_baselines import BASELINE_CACHE
from kseq.pipeline.benchmark import format_benchmark, run_benchmark
from kseq.pipeline.pretrain import run_pretraining
from kseq.pretrained import load_pretrained
from kseq.pretrained.training import PretrainingConfig


def read_forecast_input(csv):
    """A long panel from `csv`: columns ``unique_id``, ``ds``, ``y``, or a single series with
    ``ds`` and ``y`` (its id is the file name)."""
    from kseq.data.read_panel import make_long_frame, read_panel

    frame = make_long_frame(pd.read_csv(csv), str(csv), Path(csv).stem)
    return read_panel(frame, name=str(csv))


def forecast_pretrained(csv, horizon, model=None, *, fine_tune=False):
    """Forecasts `horizon` steps after the end of each series of `csv` with the pretrained
    network: ``unique_id``, ``ds``, ``kseq`` and its 80 % and 95 % bounds. No training, or
    with `fine_tune` the network fine-tuned on the file's series first
    (`kseq.pretrained.fine_tuning`; returned as shipped when tuning does not validate
    better). Returns ``(frame, FineTuning or None)``."""
    panel = read_forecast_input(csv)
    network, record = load_pretrained(model), None
    if fine_tune:
        from kseq.pretrained.fine_tuning import fine_tune as tune

        network, record = tune(network, panel, horizon)
    return network.forecast(panel, h=horizon), record


def benchmark_to_folder(competition, out, *, model=None, max_series=None, baselines=None):
    """Runs `run_benchmark` and writes ``metrics.json``, ``benchmark.md`` and
    ``forecasts.csv`` to `out`; baselines are cached beside `out`."""
    out = Path(out)
    result = run_benchmark(
        competition,
        load_pretrained(model),
        cache_dir=out.resolve().parent / BASELINE_CACHE,
        max_series=max_series,
        **({} if baselines is None else {"baselines": baselines}),
    )
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "metrics.json", json.dumps(result.to_json(), indent=2) + "\n")
    write_text_atomic(out / "benchmark.md", format_benchmark(result))
    write_text_atomic(out / "forecasts.csv", result.forecasts.to_csv(index=False))
    return result


class _StopOnSignal(keras.callbacks.Callback):
    """Ctrl-C or SIGTERM during pretraining stops after the running batch, with one line."""

    def on_train_begin(self, logs=None):
        if InterruptGuard.active is not None:
            InterruptGuard.active.training = True

    def on_train_batch_end(self, batch, logs=None):
        InterruptGuard.check("during pretraining; nothing was saved")

    def on_train_end(self, logs=None):
        if InterruptGuard.active is not None:
            InterruptGuard.active.training = False


def pretrain_to_folder(args):
    """Pretrains from the `kseq pretrain` arguments; writes ``model/`` (the saved network)
    and ``pretraining.json`` to ``args.out``."""
    from kseq.data.competitions import COMPETITIONS

    config = PretrainingConfig(seed=args.seed)
    if args.max_minutes is not None:
        config = replace(config, max_minutes=args.max_minutes)
    if args.max_epochs is not None:
        config = replace(config, max_epochs=args.max_epochs)
    corpora = [name for name in COMPETITIONS if name not in args.exclude]
    out = Path(args.out)
    forecaster, report = run_pretraining(
        corpora,
        config=config,
        max_series=args.max_series,
        cache_dir=out.resolve().parent / BASELINE_CACHE,
        callbacks=[_StopOnSignal()],
    )
    out.mkdir(parents=True, exist_ok=True)
    forecaster.save(out / "model")
    write_text_atomic(out / "pretraining.json", json.dumps(report.to_json(), indent=2) + "\n")
    return report
