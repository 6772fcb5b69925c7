"""Runs a validated recipe: data, split, transforms, model, training, evaluation, outputs.

The backend must be chosen before this module is imported (the CLI does it).
"""

import json
import platform
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import kseq
from kseq import baselines as classical
from kseq._io import write_json_atomic, write_text_atomic
from kseq._keras import keras
from kseq.data import load_airpassengers, make_ar1, make_sine, read_series, split_series
from kseq.data.ar1_dataset import AR1Dataset
from kseq.errors import ConfigError, LeakageWarning
from kseq.forecaster import Forecaster
from kseq.metrics import score
from kseq.models import (
    build_airpassengers_tutorial,
    build_ar1_model,
    build_ensemble,
    build_forecaster,
    build_sine_study_model,
    head_loss,
)
from kseq.plots import plot_forecast, plot_loss, plot_scatter
from kseq.transforms import Difference, LogTransform, MinMaxScale, TransformPipeline


def load_data(data, seed=None):
    """Returns ``(index, values (time, columns), column names)`` for a ``[data]`` section."""
    if data["source"] == "airpassengers":
        series = load_airpassengers()
        return series.index, series.to_numpy()[:, None], [series.name]
    if data["source"] == "sine":
        series = make_sine(
            data["family"], num_points=data["num_points"], end=data["end"], seed=seed
        )
        return series.index, series.to_numpy()[:, None], [series.name]
    frame = read_series(
        data["path"],
        data["time_column"],
        data["target_columns"],
        data["feature_columns"],
        missing=data["missing"],
        fill_gaps=data["fill_gaps"],
    )
    return frame.index, frame.to_numpy(), list(frame.columns)


def cut_series(index, values, end):
    """Keeps the series up to `end`: a count of points, or the last date kept (inclusive)."""
    if end is None:
        return index, values
    if isinstance(end, int):
        if not 1 <= end <= len(values):
            raise ConfigError(
                f"[split] end = {end} must be between 1 and the series length {len(values)}."
            )
        stop = end
    else:
        if not isinstance(index, pd.DatetimeIndex):
            raise ConfigError(
                f"[split] end = {end!r} is a date, but this series has no dates; use a count."
            )
        try:
            stamp = pd.Timestamp(end)
        except ValueError:
            raise ConfigError(f"[split] end = {end!r} is not a date.") from None
        stop = int(index.searchsorted(stamp, side="right"))
        if stop == 0:
            raise ConfigError(f"[split] end = {end!r} is before the first point {index[0]}.")
    return index[:stop], values[:stop]


def build_transforms(section):
    steps = []
    if section["log"]:
        steps.append(LogTransform())
    for lag in section["difference"]:
        steps.append(Difference(lag))
    if section["minmax"] is not False:
        feature_range = (0.0, 1.0) if section["minmax"] is True else tuple(section["minmax"])
        if len(feature_range) != 2 or not feature_range[0] < feature_range[1]:
            raise ConfigError(f"[transforms] minmax must be [low, high]; received {feature_range}.")
        steps.append(MinMaxScale(feature_range))
    return TransformPipeline(steps)


def build_model(section, lookback, num_features, horizon, num_targets, seed, name="forecaster"):
    builder = section["builder"]
    if builder == "airpassengers_tutorial":
        return build_airpassengers_tutorial(lookback, seed=seed, name=name)
    units = section["units"] if isinstance(section["units"], list) else [section["units"]]
    if section["num_layers"] is not None:
        if len(units) != 1:
            raise ConfigError(
                f"[model] num_layers = {section['num_layers']} repeats one width; units must be "
                f"a single number, not {units}."
            )
        units = units * section["num_layers"]
    if builder == "sine_study":
        forget_bias = 1.0 if section["forget_bias"] is None else section["forget_bias"]
        return build_sine_study_model(
            lookback,
            forget_bias=forget_bias,
            num_layers=len(units),
            units=units[0],
            seed=seed,
            name=name,
        )
    if builder == "ar1":
        return build_ar1_model(seed=seed)
    return build_forecaster(
        lookback,
        num_features,
        horizon,
        num_targets,
        cell=section["cell"],
        units=units,
        dropout=section["dropout"],
        input_dropout=section["input_dropout"],
        recurrent_dropout=section["recurrent_dropout"],
        forget_bias=section["forget_bias"],
        head=section["head"],
        dense_units=section["dense_units"],
        dense_activation=section["dense_activation"],
        quantiles=section["quantiles"],
        num_components=section["num_components"],
        seed=seed,
        name=name,
    )


def make_optimizer(training):
    return keras.optimizers.get(
        {
            "class_name": training["optimizer"],
            "config": {"learning_rate": training["learning_rate"]},
        }
    )


def make_callbacks(training, run_dir, resume, monitor):
    backup = Path(run_dir) / "backup"
    if backup.exists() and not resume:
        shutil.rmtree(backup)
    callbacks = [keras.callbacks.TerminateOnNaN(), keras.callbacks.BackupAndRestore(str(backup))]
    if training["early_stopping"]:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor,
                patience=training["patience"],
                start_from_epoch=training["start_from_epoch"],
                restore_best_weights=True,
            )
        )
    return callbacks


def check_steps_per_execution(training):
    # Keras's torch trainer raises deep inside compile(); say it in the recipe's terms.
    steps = training["steps_per_execution"]
    if steps > 1 and keras.backend.backend() == "torch":
        raise ConfigError(
            f"[training] steps_per_execution = {steps}: Keras's PyTorch backend runs one step "
            "per call; set it to 1, or use the JAX or TensorFlow backend."
        )


def best_epoch(val_loss, training):
    """The 1-based epoch whose weights early stopping kept (it skips `start_from_epoch`)."""
    start = training["start_from_epoch"]
    if len(val_loss) <= start:
        return len(val_loss)  # stopped (NaN) before monitoring began: the last weights stay
    return start + int(np.argmin(val_loss[start:])) + 1


def versions():
    found = {
        "python": platform.python_version(),
        "kseq": kseq.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
    }
    backend = keras.backend.backend()
    module = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}[backend]
    found[module] = __import__(module).__version__
    return found


def run_recipe(config, *, run_dir=None, resume=False, verbose="auto", callbacks=None):
    """Runs a recipe config (from `load_recipe`); returns the run card as a dict.

    Args:
        config: a validated recipe (`kseq.recipes.config.load_recipe`).
        run_dir: output directory; the recipe's ``output_dir`` by default.
        resume: continue from the backup of an interrupted run in `run_dir`.
        verbose: Keras progress-bar setting.
        callbacks: extra Keras callbacks (e.g. a study's pruning callback).
    """
    name = config["recipe"]["name"]
    run_dir = Path(run_dir or config["recipe"]["output_dir"].format(name=name))
    run_dir.mkdir(parents=True, exist_ok=True)
    seed = config["recipe"]["seed"]
    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    if config["data"]["source"] == "ar1":
        card = _run_ar1(config, run_dir, resume, verbose, seed, callbacks or [])
    else:
        card = _run_forecast(config, run_dir, resume, verbose, seed, callbacks or [])
    card["timings"]["total_s"] = round(time.perf_counter() - started, 2)
    card.update(
        {
            "recipe": name,
            "backend": keras.backend.backend(),
            "seed": seed,
            "versions": versions(),
            "config": config,
            "run_dir": str(run_dir),
        }
    )
    write_json_atomic(run_dir / "run_card.json", card)
    write_text_atomic(run_dir / "run_card.md", render_card(card))
    return card


def _run_forecast(config, run_dir, resume, verbose, seed, extra_callbacks):
    data, windows, training, evaluation = (
        config["data"],
        config["windows"],
        config["training"],
        config["evaluation"],
    )
    timings = {}
    tick = time.perf_counter()
    index, values, columns = load_data(data, seed)
    index, values = cut_series(index, values, config["split"]["end"])
    split = split_series(
        pd.Series(values[:, 0], index=index),
        test=config["split"]["test"],
        validation=config["split"]["validation"],
    )
    lookback, horizon = windows["lookback"], windows["horizon"]
    transforms = build_transforms(config["transforms"])
    # The targets are the first columns: one for bundled series, the named ones for a CSV.
    targets = data["target_columns"] if data["source"] == "csv" else [columns[0]]
    num_targets = 1 if isinstance(targets, str) else len(targets)
    leaks = []
    if config["transforms"]["fit_on"] == "all":
        leaks.append("transforms (scaler) fitted on the whole series, test period included")
    if training["train_on"] == "all":
        leaks.append("model trained on windows of the whole series, test period included")
    for leak in leaks:
        warnings.warn(f"Recipe {config['recipe']['name']!r}: {leak}.", LeakageWarning, stacklevel=2)

    if config["transforms"]["fit_on"] == "all":
        transforms.fit(values)
    train_values = values if training["train_on"] == "all" else values[split.train]
    validation_values = None if training["train_on"] == "all" else values[split.validation]
    monitor = "val_loss" if validation_values is not None and len(validation_values) else "loss"
    if training["ensemble"] > 1 and config["model"]["head"] == "mixture":
        raise ConfigError("[training] ensemble averages outputs, which is wrong for mixture heads.")
    check_steps_per_execution(training)
    if training["refit"] and monitor != "val_loss":
        raise ConfigError(
            "[training] refit = true retrains on train + validation for the epochs that scored "
            "best on validation; it needs a validation part ([split] validation > 0) and "
            "train_on = 'train'."
        )
    timings["data_s"] = round(time.perf_counter() - tick, 2)
    tick = time.perf_counter()

    def new_member(member):
        # Members differ only by seed: initial weights, dropout masks, batch order.
        member_seed = seed + member
        keras.utils.set_random_seed(member_seed)
        name = "forecaster" if training["ensemble"] == 1 else f"member_{member}"
        model = build_model(
            config["model"], lookback, values.shape[1], horizon, num_targets, member_seed, name
        )
        model.compile(
            optimizer=make_optimizer(training),
            loss=head_loss(model),
            steps_per_execution=training["steps_per_execution"],
        )
        return Forecaster(model, lookback=lookback, transforms=transforms, num_targets=num_targets)

    def fit_args(member):
        return {
            "batch_size": training["batch_size"],
            "shuffle": training["shuffle"],
            "random_windows": windows["random_windows"],
            "steps_per_epoch": training["steps_per_epoch"],
            "seed": seed + member,
            "verbose": verbose,
        }

    def combine(models):
        model = models[0] if len(models) == 1 else build_ensemble(models)
        return Forecaster(model, lookback=lookback, transforms=transforms, num_targets=num_targets)

    members, histories, refit_members, refit_epochs = [], [], [], []
    for member in range(training["ensemble"]):
        forecaster = new_member(member)
        name = forecaster.model.name
        backup_dir = run_dir if training["ensemble"] == 1 else run_dir / name
        history = forecaster.fit(
            train_values,
            validation_values,
            fit_transforms=config["transforms"]["fit_on"] == "train" and member == 0,
            epochs=training["epochs"],
            # Pruning and other extra callbacks watch the first member only.
            callbacks=make_callbacks(training, backup_dir, resume, monitor)
            + (extra_callbacks if member == 0 else []),
            **fit_args(member),
        )
        members.append(forecaster.model)
        histories.append(history)
        if training["refit"]:
            # The same member again, from the same initial weights, on train + validation for
            # the epochs that were best on validation (the transforms stay fitted on train).
            val_loss = history.history["val_loss"]
            epochs = best_epoch(val_loss, training) if training["early_stopping"] else len(val_loss)
            refit = new_member(member)
            refit_history = refit.fit(
                values[: split.validation.stop],
                fit_transforms=False,
                epochs=epochs,
                callbacks=[keras.callbacks.TerminateOnNaN()],
                **fit_args(member),
            )
            refit_members.append(refit.model)
            refit_epochs.append(len(refit_history.history["loss"]))
    forecaster = combine(members)
    history = histories[0]
    timings["training_s"] = round(time.perf_counter() - tick, 2)
    tick = time.perf_counter()

    card = {
        "leakage": leaks,
        "epochs_run": len(history.history.get("loss", [])),
        "ensemble": len(members),
        "epochs_run_per_member": [len(h.history.get("loss", [])) for h in histories],
        "final_loss": _last(history.history, "loss"),
        "final_val_loss": _last(history.history, "val_loss"),
        "metrics": {},
    }
    if monitor == "val_loss":
        card["best_epoch_per_member"] = [
            best_epoch(h.history["val_loss"], training) for h in histories
        ]
    if refit_epochs:
        card["refit_epochs_per_member"] = refit_epochs
    season = evaluation["season_length"]
    if validation_values is not None and len(validation_values):
        # Scored on the validation part only: what studies and model choices may look at.
        start = split.validation.start
        truth = values[split.validation][:, 0]
        recursive = forecaster.predict(values[:start], len(truth))[:, 0]
        one_step = forecaster.predict_one_step(values[: split.validation.stop], start)[:, 0]
        val_loss = history.history["val_loss"]  # the first member's
        kept = best_epoch(val_loss, training) if training["early_stopping"] else None
        card["validation_metrics"] = {
            "best_val_loss": val_loss[kept - 1] if kept else min(val_loss),
            "one_step": score(truth, one_step, values[split.train][:, 0], season),
            "recursive": score(truth, recursive, values[split.train][:, 0], season),
        }
    if refit_members:
        # Validation was scored before the refit: the refitted members have seen it.
        forecaster = combine(refit_members)
    test_start = split.test.start
    num_test = split.test.stop - test_start
    plot_args = {
        "index": index[:test_start],
        "history": values[:test_start, 0],
        "title": f"{config['recipe']['name']} ({keras.backend.backend()})",
    }
    if num_test:
        history_values, test_values = values[:test_start], values[split.test]
        # A horizon past the test part is scored on the test points there are.
        steps = min(evaluation["horizon"] or num_test, num_test)
        multi = forecaster.predict(history_values, steps)
        one_step, raw = forecaster.predict_one_step(values, test_start, raw=True)
        target_history = history_values[split.train][:, 0]
        truth = test_values[:steps, 0]
        strategy = (
            "direct"
            if steps <= forecaster.horizon
            else ("recursive" if forecaster.horizon == 1 else "hybrid")
        )
        metrics = {
            f"model ({strategy}, {steps}-step)": score(truth, multi[:, 0], target_history, season),
            "model (one-step)": score(test_values[:, 0], one_step[:, 0], target_history, season),
        }
        baseline_forecasts = classical.naive_baselines(
            history_values[:, 0], test_values[:, 0], season
        )
        if "sarima" in evaluation["baselines"] and season > 1:
            if classical.sarima_available():
                baseline_forecasts["sarima"] = classical.sarima_airline(
                    history_values[:, 0], test_values[:, 0], season
                )
            else:
                card["notes"] = ["SARIMA baseline skipped: pip install 'kseq[classical]'."]
        for label, forecasts in baseline_forecasts.items():
            if label not in evaluation["baselines"]:
                continue
            metrics[f"{label} ({steps}-step)"] = score(
                truth, forecasts["multi_step"][:steps], target_history, season
            )
            metrics[f"{label} (one-step)"] = score(
                test_values[:, 0], forecasts["one_step"], target_history, season
            )
        card["metrics"] = metrics
        interval = None
        if raw.shape[-1] > 1:
            low, high = raw[:, 0, 0], raw[:, 0, -1]
            inside = (test_values[:, 0] >= low) & (test_values[:, 0] <= high)
            card["interval_coverage"] = {
                "levels": config["model"]["quantiles"],
                "one_step_coverage": float(inside.mean()),
            }
            interval = (low, high)
        plot_args.update(
            truth=test_values[:, 0],
            forecast=multi[:, 0],
            forecast_index=index[split.test],
            one_step=one_step[:, 0],
            interval=interval,
            baselines={
                k: v["multi_step"][:steps]
                for k, v in baseline_forecasts.items()
                if k in evaluation["baselines"]
            },
        )
        np.savez(run_dir / "forecasts.npz", multi_step=multi, one_step=one_step, truth=test_values)
    if evaluation["forecast_steps"]:
        future = forecaster.predict(values, evaluation["forecast_steps"])
        step = index[-1] - index[-2]
        future_index = [index[-1] + step * (i + 1) for i in range(len(future))]
        card["future_forecast"] = future[:, 0].tolist()
        plot_args.update(
            index=index,
            history=values[:, 0],
            truth=None,
            one_step=None,
            interval=None,
            baselines=None,
            forecast=future[:, 0],
            forecast_index=future_index,
        )
    plot_forecast(run_dir / "forecast.png", **plot_args)
    plot_loss(run_dir / "loss.png", history.history)
    forecaster.save(run_dir / "forecaster", extra={"recipe": config})
    timings["evaluation_s"] = round(time.perf_counter() - tick, 2)
    card["timings"] = timings
    card["outputs"] = [
        "run_card.json",
        "run_card.md",
        "forecast.png",
        "loss.png",
        "forecaster/model.keras",
        "forecaster/forecaster.json",
    ]
    return card


def _run_ar1(config, run_dir, resume, verbose, seed, extra_callbacks):
    data, training = config["data"], config["training"]
    # AR(1) paths are simulated afresh for training and testing: there is no series to cut and
    # no validation part to refit on, so these keys would be silently ignored.
    for section, key, unset in (("split", "end", None), ("training", "refit", False)):
        if config[section][key] != unset:
            raise ConfigError(
                f"[{section}] {key} does not apply to source = 'ar1' (simulated paths); remove it."
            )
    check_steps_per_execution(training)
    timings = {"training_s": 0.0}
    metrics, panels, outputs = {}, {}, ["run_card.json", "run_card.md", "loss.png", "scatter.png"]
    histories = {}
    for i, weight in enumerate(data["lag_weights"]):
        tag = f"w={weight:g}"
        keras.utils.set_random_seed(seed + i)
        train = AR1Dataset(
            training["batch_size"],
            training["steps_per_epoch"] or 100,
            num_steps=data["num_steps"],
            rho=data["rho"],
            lag_weight=weight,
            seed=seed + 1000 * i,
        )
        x_val, y_val = make_ar1(
            data["test_paths"] // 4 or 1,
            num_steps=data["num_steps"],
            rho=data["rho"],
            lag_weight=weight,
            seed=seed + 1000 * i + 1,
        )
        x_test, y_test = make_ar1(
            data["test_paths"],
            num_steps=data["num_steps"],
            rho=data["rho"],
            lag_weight=weight,
            seed=seed + 1000 * i + 2,
        )
        model = build_ar1_model(seed=seed)
        model.compile(
            optimizer=make_optimizer(training),
            loss="mse",
            steps_per_execution=training["steps_per_execution"],
        )
        tick = time.perf_counter()
        history = model.fit(
            train,
            validation_data=(x_val, y_val),
            epochs=training["epochs"],
            callbacks=make_callbacks(training, run_dir / tag, resume, "val_loss") + extra_callbacks,
            verbose=verbose,
        )
        timings["training_s"] += round(time.perf_counter() - tick, 2)
        prediction = model.predict(x_test, verbose=0)
        # Baselines: the best constant, E[y_t] = (1 + w)·Var(x) estimated on validation paths, and
        # x_t² alone (right for w = 0; for w > 0 a model must beat it to have learned the lag).
        # The best constant predicts E[y_t] = (1 + w)·Var(x), estimated on the validation paths.
        constant = float(np.mean(y_val))
        metrics[tag] = {
            "test_mse": float(np.mean((prediction - y_test) ** 2)),
            "mean_baseline_mse": float(np.mean((constant - y_test) ** 2)),
            "no_lag_term_mse": float(np.mean((x_test**2 - y_test) ** 2)),
        }
        histories[tag] = history.history
        panels[tag] = (y_test, prediction)
        model_file = f"model_{tag.replace('=', '')}.keras"
        model.save(run_dir / f".{model_file}.tmp.keras")
        (run_dir / f".{model_file}.tmp.keras").replace(run_dir / model_file)
        np.savez(
            run_dir / f"predictions_{tag.replace('=', '')}.npz",
            x=x_test[:64],
            prediction=prediction[:64],
        )
        outputs.append(model_file)
    plot_scatter(run_dir / "scatter.png", panels, title="AR(1) lag target: truth vs prediction")
    plot_loss(
        run_dir / "loss.png",
        {f"{tag} {k}": v for tag, h in histories.items() for k, v in h.items()},
    )
    return {
        "metrics": metrics,
        "timings": timings,
        "outputs": outputs,
        "leakage": [],
        "epochs_run": {tag: len(h["loss"]) for tag, h in histories.items()},
    }


def _last(history, key):
    values = history.get(key)
    return float(values[-1]) if values else None


def render_card(card):
    """Renders a run card as Markdown."""
    lines = [
        f"# Run card: {card['recipe']}",
        "",
        f"- backend: `{card['backend']}`; seed {card['seed']}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in card["versions"].items()),
        "- timings: " + ", ".join(f"{k} {v}" for k, v in card["timings"].items()),
        f"- epochs run: {card.get('epochs_run')}",
    ]
    if card.get("final_loss") is not None:
        lines.append(f"- final training loss: {card['final_loss']:.4g}")
    for leak in card.get("leakage", []):
        lines.append(f"- **LEAKAGE: {leak}. These test scores are not honest.**")
    for note in card.get("notes", []):
        lines.append(f"- note: {note}")
    if "interval_coverage" in card:
        coverage = card["interval_coverage"]
        lines.append(
            f"- one-step interval {coverage['levels'][0]}–{coverage['levels'][-1]}: "
            f"empirical coverage {coverage['one_step_coverage']:.0%} on the test part"
        )
    lines += [
        "",
        "## Metrics (original units)",
        "",
        format_metrics(card["metrics"]),
        "",
        "## Config",
        "",
        "```json",
        json.dumps(card["config"], indent=2),
        "```",
        "",
    ]
    return "\n".join(lines)


def format_metrics(metrics):
    """Formats ``{row: {metric: value}}`` as a Markdown table."""
    if not metrics:
        return "(no test part: no metrics)"
    columns = list(next(iter(metrics.values())))
    lines = ["| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for row, values in metrics.items():
        lines.append(f"| {row} | " + " | ".join(f"{values[c]:.4g}" for c in columns) + " |")
    return "\n".join(lines)
