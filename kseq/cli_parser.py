"""The ``kseq`` command line's arguments: one parser per command (`make_parser`). Importing
it imports no Keras (the backend is chosen from these arguments)."""

import argparse

import kseq
from kseq.backend import BACKENDS


def _add_common(parser):
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: KERAS_BACKEND, keras.json, then installed)",
    )


def _add_overrides(parser):
    parser.add_argument(
        "--set",
        action="append",
        default=None,
        metavar="SECTION.KEY=VALUE",
        help="override any recipe key (repeatable); the value is read as TOML",
    )


def make_parser():
    parser = argparse.ArgumentParser(
        prog="kseq",
        description="kseq: sequence forecasting with recurrent nets on Keras 3 "
        "(TensorFlow, PyTorch or JAX).",
    )
    parser.add_argument("--version", action="version", version=f"kseq {kseq.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a recipe TOML file")
    run.add_argument("recipe", help="recipe file, or the name of a bundled recipe")
    _add_common(run)
    run.add_argument("--epochs", type=int, help="override [training] epochs")
    run.add_argument("--out", help="run directory (default: the recipe's output_dir)")
    _add_overrides(run)
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run from its last backed-up epoch",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_overwrite(run)

    _add_backtest(commands)

    study = commands.add_parser("study", help="run or resume a hyperparameter study (Optuna)")
    study.add_argument("study", help="study TOML file, or the name of a bundled one")
    _add_common(study)
    study.add_argument(
        "--storage",
        help="Optuna storage URL shared by workers (default: SQLite "
        "file study.db in the output directory)",
    )
    study.add_argument("--workers", type=int, default=1, help="local worker processes")
    study.add_argument("--out", help="output directory (default: the study's output_dir)")
    study.add_argument("--epochs", type=int, help="override [training] epochs of every trial")
    study.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)

    forecast = commands.add_parser("forecast", help="forecast with a saved run")
    forecast.add_argument(
        "run_dir",
        help="run directory (or its forecaster/ folder); 'pretrained' for the shipped "
        "pretrained network (no training; needs --csv)",
    )
    _add_common(forecast)
    forecast.add_argument(
        "--horizon",
        type=int,
        help="steps to forecast (default: the steps the run was tested on; needed for "
        "'pretrained')",
    )
    forecast.add_argument("--csv", help="newer data (same columns as training) to forecast from")
    forecast.add_argument(
        "--fine-tune",
        action="store_true",
        help="'pretrained' only: fine-tune the network on the CSV's series first",
    )
    forecast.add_argument("--out", help="CSV file to write (default: stdout)")
    _add_pretraining_commands(commands)
    for command in commands.choices.values():
        # An unknown option is reported with its subcommand's usage (see `_parse`).
        command.set_defaults(command_parser=command)
    return parser


def _add_backtest(commands):
    backtest = commands.add_parser(
        "backtest", help="rolling-origin backtest of a recipe (one run per origin)"
    )
    backtest.add_argument("recipe", help="recipe file, or the name of a bundled recipe")
    _add_common(backtest)
    backtest.add_argument(
        "--origins",
        nargs="+",
        required=True,
        help="first forecast point of each run: dates (1958-01) or positions",
    )
    backtest.add_argument(
        "--length",
        type=int,
        help="points scored after each origin (default: the recipe's [evaluation] test_steps, "
        "else its test part)",
    )
    backtest.add_argument("--epochs", type=int, help="override [training] epochs of every origin")
    backtest.add_argument("--out", help="output directory (default: <output_dir>-backtest)")
    _add_overrides(backtest)
    backtest.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted backtest: finished origins are read back, the "
        "interrupted one continues from its checkpoints",
    )
    _add_overwrite(backtest)


def _add_pretraining_commands(commands):
    from kseq.data.competitions import COMPETITIONS

    benchmark = commands.add_parser(
        "benchmark", help="a competition's protocol: the pretrained network against statsforecast"
    )
    benchmark.add_argument("competition", choices=COMPETITIONS)
    _add_common(benchmark)
    benchmark.add_argument("--out", required=True, help="folder for metrics.json and the tables")
    benchmark.add_argument("--model", help="a saved pretrained network (default: the shipped one)")
    benchmark.add_argument(
        "--max-series", type=int, help="only the first N series of each frequency (a smoke run)"
    )
    benchmark.add_argument(
        "--baselines",
        help="statsforecast models, comma-separated (default: ets,theta,arima; ets always runs)",
    )
    _add_overwrite(benchmark)

    pretrain = commands.add_parser(
        "pretrain", help="pretrain the global network on the competition corpus"
    )
    _add_common(pretrain)
    pretrain.add_argument("--out", required=True, help="folder for the network and its report")
    pretrain.add_argument(
        "--exclude", action="append", default=[], choices=COMPETITIONS,
        help="leave a competition out (repeatable), for zero-shot scores on it",
    )  # fmt: skip
    pretrain.add_argument("--seed", type=int, default=1, help="weights and shuffling")
    pretrain.add_argument(
        "--max-minutes", type=float, help="wall-clock budget of each of the two fits"
    )
    pretrain.add_argument("--max-epochs", type=int, help="epochs at most (validated fit)")
    pretrain.add_argument(
        "--max-series", type=int, help="only the first N series of each frequency (a smoke run)"
    )
    _add_overwrite(pretrain)


def _add_overwrite(command):
    command.add_argument(
        "--overwrite",
        action="store_true",
        help="replace what an earlier run wrote in --out (refused without it)",
    )
