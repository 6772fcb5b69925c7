"""The ``kseq`` command: run, backtest, study, forecast, benchmark and pretrain.

The backend flag is applied before anything imports Keras; the modules that need Keras are
imported inside the commands.
"""

import logging
import os
import shlex
import signal
import sys
import threading
import warnings
from pathlib import Path

from kseq._io import CHECKPOINTS, claim_out_dir
from kseq.backend import select_backend
from kseq.cli_parser import make_parser
from kseq.errors import (
    ConfigError,
    KseqError,
    KseqWarning,
    MissingDependencyError,
    TrainingInterrupted,
)


def _load_recipe(args, backend):
    from kseq.config import load_recipe, parse_override, recipe_path

    path = Path(args.recipe)
    if not path.suffix and not path.is_file():  # a folder of that name is no recipe
        path = recipe_path(args.recipe)
    overrides = [parse_override(text) for text in args.set or []]
    if getattr(args, "epochs", None) is not None and args.epochs < 1:
        raise ConfigError(f"--epochs must be >= 1; received {args.epochs}.")
    if getattr(args, "epochs", None) is not None:
        overrides.append(("training", "epochs", args.epochs))
    return path, load_recipe(path, overrides, backend=backend)


def _check_out(path, *, directory=True):
    """`--out` must name a folder (run, backtest, study) or a file (forecast) that can be made."""
    if path is None:
        return
    path = Path(path)
    if directory and path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path} is a file; give a folder for the run's outputs.")
    if not directory and path.is_dir():
        raise ConfigError(f"--out {path} is a folder; give a file name for the forecast CSV.")
    parent = path.parent if not directory else next((p for p in path.parents if p.exists()), None)
    if parent is not None and parent.exists() and not parent.is_dir():
        raise ConfigError(f"--out {path}: {parent} is a file, not a folder.")
    if not directory and not parent.exists():
        raise ConfigError(f"--out {path}: folder {parent} does not exist; create it first.")


def _run(args, backend):
    _check_out(args.out)
    path, recipe = _load_recipe(args, backend)
    print(f"kseq: recipe {path} on backend {backend}", file=sys.stderr)
    # The folder first: a refusal costs no import of Keras.
    run_dir = Path(args.out or recipe.recipe.output_dir.format(name=recipe.name))
    if args.resume and (run_dir / "run_card.json").is_file():
        if not (run_dir / CHECKPOINTS).is_dir():
            # Finished (possibly killed while the interpreter shut down): kept as it is.
            print(
                f"kseq: {run_dir} holds a finished run: nothing to resume (its results are "
                "there; --overwrite instead of --resume runs it again).",
                file=sys.stderr,
            )
            return 0
    claim_out_dir(run_dir, overwrite=args.overwrite, resume=args.resume)
    from kseq.pipeline.preflight import check_inputs

    check_inputs(recipe)

    from kseq.callbacks import InterruptGuard
    from kseq.pipeline.run import run_recipe

    if args.resume and not (run_dir / CHECKPOINTS).is_dir():
        # A finished run keeps no checkpoints; a mistyped --out has none either.
        print(
            f"kseq: warning: nothing to resume in {run_dir} (no checkpoints: a finished run, or "
            "another folder); starting a fresh run.",
            file=sys.stderr,
        )
    try:
        # Until the report is printed: a signal at any point is one line, never a traceback.
        with InterruptGuard():
            card = run_recipe(
                recipe, run_dir=run_dir, resume=args.resume, verbose=0 if args.quiet else "auto"
            )
            _print_card(card)
    except TrainingInterrupted as error:
        error.args = (describe_stop(error, run_dir),)
        raise
    return 0


def describe_stop(error, run_dir):
    """The stop line: where the checkpoints are, or that none was written yet."""
    folder = Path(run_dir) / CHECKPOINTS
    if folder.is_dir() and any(p.is_file() for p in folder.rglob("*")):
        return f"{error}; its checkpoints are in {folder}"
    error.resumable = False
    return f"{error} before its first checkpoint; nothing to resume, run it again"


def _print_card(card):
    from kseq.evaluation.tables import format_metrics

    print(f"\n{card.recipe} on {card.backend} — metrics in original units:\n")
    print(format_metrics(card.metrics))
    if card.panel is not None:
        from kseq.pipeline.run_card import describe_weight

        weight = describe_weight(card.panel.weights, card.panel.chosen)
        print(f"\nChosen on validation: {card.panel.chosen}{weight} ({card.panel.reason}).")
    for leak in card.leakage:
        print(f"\nLEAKAGE: {leak}; these scores are not honest.")
    for note in card.notes:
        print(f"Note: {note}")
    print(f"\nRun directory: {card.run_dir}")


def _backtest(args, backend):
    _check_out(args.out)
    _positive(args.length, "--length")
    path, recipe = _load_recipe(args, backend)
    print(f"kseq: backtest of {path} on backend {backend}", file=sys.stderr)
    origins = [int(o) if o.isdigit() else o for o in args.origins]
    repeated = sorted({str(o) for o in origins if origins.count(o) > 1})
    if repeated:
        raise ConfigError(
            f"--origins names {', '.join(repeated)} more than once; give each origin once."
        )
    out = args.out or recipe.recipe.output_dir.format(name=recipe.name) + "-backtest"
    claim_out_dir(out, overwrite=args.overwrite, resume=args.resume)
    from kseq.pipeline.preflight import check_inputs

    check_inputs(recipe)

    from kseq.callbacks import InterruptGuard
    from kseq.evaluation.tables import format_backtest
    from kseq.pipeline.backtest import backtest_recipe

    # A signal stops after the running batch, with a checkpoint: `--resume` continues there.
    with InterruptGuard():
        summary = backtest_recipe(
            recipe, origins, length=args.length, run_dir=out, resume=args.resume
        )
    print(format_backtest(summary))
    print(f"Backtest directory: {out}")
    return 0


def _study(args, backend):
    import importlib.util

    from kseq.config import study_path

    if importlib.util.find_spec("optuna") is None:
        raise MissingDependencyError("kseq study needs Optuna: run `pip install 'kseq[study]'`.")
    _check_out(args.out)
    if args.epochs is not None and args.epochs < 1:
        raise ConfigError(f"--epochs must be >= 1; received {args.epochs}.")
    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1; received {args.workers}.")
    path = Path(args.study)
    if not path.suffix and not path.is_file():  # a folder of that name is no recipe
        path = study_path(args.study)
    if args.worker:
        from kseq.study import load_study
        from kseq.study.worker import run_worker

        run_worker(load_study(path), args.storage, args.out, epochs=args.epochs)
        return 0
    from kseq.study import run_study

    print(f"kseq: study {path} on backend {backend}", file=sys.stderr)
    summary = run_study(
        path,
        storage=args.storage,
        workers=args.workers,
        out_dir=args.out,
        epochs=args.epochs,
        backend=args.backend,
    )
    if summary.failed_workers:
        print(
            f"kseq: {summary.failed_workers} worker process(es) ended early; their trials were "
            "run again by the others (see results.md).",
            file=sys.stderr,
        )
    best = "no trial completed" if summary.best is None else f"best trial {summary.best}"
    print(f"{summary.trials} trials in {summary.storage}; {best}.")
    print(f"Results: {summary.out_dir}/results.md, best_recipe.toml, " + ", ".join(summary.plots))
    return 0


def _forecast(args, backend):
    _check_out(args.out, directory=False)
    if args.run_dir == "pretrained":
        from kseq.pipeline.candidates import describe_fine_tuning
        from kseq.pipeline.zero_shot import forecast_pretrained

        if args.csv is None or args.horizon is None:
            raise ConfigError(
                "kseq forecast pretrained needs --csv FILE (the series to forecast) and "
                "--horizon H (the steps; the pretrained network forecasts up to 24)."
            )
        frame, tuning = forecast_pretrained(args.csv, args.horizon, fine_tune=args.fine_tune)
        if tuning is not None:
            print(f"kseq: {describe_fine_tuning(tuning)}", file=sys.stderr)
        text = frame.to_csv(index=False)
    else:
        from kseq.pipeline.forecast import forecast_saved_run

        if args.fine_tune:
            raise ConfigError("--fine-tune applies to `kseq forecast pretrained` only.")

        text = forecast_saved_run(args.run_dir, args.horizon, csv=args.csv).to_csv()
    if args.out:
        from kseq._io import write_text_atomic

        write_text_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    return 0


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # kseq's own warnings are advice to the user: one line, no source location.
    if issubclass(category, KseqWarning):
        print(f"kseq: warning: {message}", file=file or sys.stderr)
    else:
        _default_show_warning(message, category, filename, lineno, file, line)


_default_show_warning = warnings.showwarning


def _positive(value, option):
    if value is not None and value < 1:
        raise ConfigError(f"{option} must be >= 1; received {value}.")


def _benchmark(args, backend):
    _check_out(args.out)
    _positive(args.max_series, "--max-series")
    claim_out_dir(args.out, overwrite=args.overwrite)
    from kseq.pipeline.benchmark import format_benchmark
    from kseq.pipeline.zero_shot import benchmark_to_folder

    print(f"kseq: benchmark {args.competition} on backend {backend}", file=sys.stderr)
    result = benchmark_to_folder(
        args.competition,
        args.out,
        model=args.model,
        max_series=args.max_series,
        baselines=None if args.baselines is None else args.baselines.split(","),
    )
    print(format_benchmark(result))
    print(f"Results: {args.out}/metrics.json, benchmark.md, forecasts.csv")
    return 0


def _pretrain(args, backend):
    _check_out(args.out)
    for value, option in ((args.max_series, "--max-series"), (args.max_epochs, "--max-epochs")):
        _positive(value, option)
    if args.max_minutes is not None and args.max_minutes <= 0:
        raise ConfigError(f"--max-minutes must be > 0; received {args.max_minutes}.")
    claim_out_dir(args.out, overwrite=args.overwrite)
    from kseq.callbacks import InterruptGuard
    from kseq.pipeline.zero_shot import pretrain_to_folder

    print(f"kseq: pretraining on backend {backend}", file=sys.stderr)
    with InterruptGuard():
        report = pretrain_to_folder(args)
    print(
        f"Pretrained on {', '.join(report.corpora)}: {report.num_series} series, "
        f"{report.num_windows} windows; epochs {report.validate['best_epoch']} "
        f"(of {report.validate['epochs']} validated); rule {report.evidence.rule}; "
        f"{sum(report.seconds.values()):.0f} s."
    )
    print(f"Results: {args.out}/model, {args.out}/pretraining.json")
    return 0


_COMMANDS = {
    "run": _run,
    "backtest": _backtest,
    "study": _study,
    "forecast": _forecast,
    "benchmark": _benchmark,
    "pretrain": _pretrain,
}


def _stop_at_startup(number, frame):
    # Before training starts nothing is being written: a signal while Keras and the backend
    # import (seconds) stops at once. Raised there, KeyboardInterrupt can land in a garbage
    # collector callback, be printed as "Exception ignored" and lost, and the run goes on.
    # os.write, not print: the signal may arrive while sys.stderr is itself writing.
    os.write(2, b"kseq: interrupted before training started; nothing was written\n")
    os._exit(130 if number == signal.SIGINT else 143)


def main(argv=None):
    """Entry point of the ``kseq`` command; returns the exit status."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        # Until a command installs its own `InterruptGuard` (which restores this one after).
        previous = {n: signal.signal(n, _stop_at_startup) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _main(argv)
    finally:
        for number, handler in previous.items():
            if signal.getsignal(number) is _stop_at_startup:
                signal.signal(number, handler)


def _parse(argv):
    parser = make_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # The subcommand's usage, not the top-level one: the option belongs to it.
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _main(argv):
    args = _parse(argv)
    # Only kseq's own logger: other libraries' INFO chatter stays silent.
    logger = logging.getLogger("kseq")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("kseq: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    warnings.simplefilter("default", category=UserWarning)
    warnings.showwarning = _show_warning
    try:
        # Before any Keras import: the backend is fixed at Keras's first import.
        backend = select_backend(args.backend)
        status = _COMMANDS[args.command](args, backend)
        if argv is None:
            # Everything is written and reported: a signal while the interpreter shuts the
            # backend down (a second or more) must not turn a finished command into a killed one.
            for number in (signal.SIGINT, signal.SIGTERM):
                signal.signal(number, signal.SIG_IGN)
        return status
    except TrainingInterrupted as error:
        words = list(sys.argv[1:] if argv is None else argv)
        hint = ""
        if args.command in ("run", "backtest") and error.resumable:
            again = shlex.join(["kseq", *words, *([] if "--resume" in words else ["--resume"])])
            hint = f"; to continue: {again}"
        print(f"kseq: {error}{hint}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("kseq: interrupted", file=sys.stderr)
        return 130
    except KseqError as error:
        print(f"kseq: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        # A file the user named cannot be read or written (missing, a folder, no permission).
        where = f": {error.filename}" if error.filename else ""
        print(f"kseq: error: {error.strerror or error}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
