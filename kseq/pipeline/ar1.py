"""The AR(1) lag-function pipeline: simulate paths → fit the per-step net → score against
its two baselines → report. Its recipe is an `AR1Recipe` (no series, split or windows)."""

import time

import numpy as np

from kseq._io import write_npz_atomic
from kseq._keras import keras
from kseq.data import make_ar1
from kseq.data.ar1_dataset import AR1Dataset
from kseq.evaluation.plots import plot_loss, plot_scatter
from kseq.models import build_ar1_model
from kseq.pipeline.fit import checkpoint_dir, fit_member, make_optimizer
from kseq.pipeline.run_card import RunCard
from kseq.runtime import choose_steps_per_execution


def simulate_paths(data, training, weight, seed):
    """Training batches (fresh paths each epoch), validation and test paths for one weight."""
    train = AR1Dataset(
        training.batch_size,
        training.steps_per_epoch or 100,
        num_steps=data.num_steps,
        rho=data.rho,
        lag_weight=weight,
        seed=seed,
    )
    options = {"num_steps": data.num_steps, "rho": data.rho, "lag_weight": weight}
    validation = make_ar1(data.test_paths // 4 or 1, seed=seed + 1, **options)
    test = make_ar1(data.test_paths, seed=seed + 2, **options)
    return train, validation, test


def score_ar1(prediction, y_val, x_test, y_test):
    """Test MSE of the net and of its baselines: the best constant, E[y_t] = (1 + w)·Var(x)
    estimated on validation paths, and x_t² alone (right for w = 0; for w > 0 a net must beat
    it to have learned the lag)."""
    constant = float(np.mean(y_val))
    return {
        "test_mse": float(np.mean((prediction - y_test) ** 2)),
        "mean_baseline_mse": float(np.mean((constant - y_test) ** 2)),
        "no_lag_term_mse": float(np.mean((x_test**2 - y_test) ** 2)),
    }


def run_ar1(recipe, run_dir, *, resume=False, verbose="auto", callbacks=()):
    """Fits one net per lag weight; returns the `RunCard` (not yet written)."""
    data, training, seed = recipe.data, recipe.training, recipe.recipe.seed
    timings = {"training_s": 0.0}
    metrics, panels, histories = {}, {}, {}
    outputs = ["run_card.json", "run_card.md", "loss.png", "scatter.png"]
    for i, weight in enumerate(data.lag_weights):
        tag = f"w={weight:g}"
        keras.utils.set_random_seed(seed + i)
        paths = simulate_paths(data, training, weight, seed + 1000 * i)
        train, (x_val, y_val), (x_test, y_test) = paths
        model = build_ar1_model(seed=seed)
        model.compile(
            optimizer=make_optimizer(training),
            loss="mse",
            steps_per_execution=choose_steps_per_execution(training.steps_per_execution),
        )
        tick = time.perf_counter()

        def fit(initial_epoch, callbacks, model=model, train=train, x_val=x_val, y_val=y_val):
            model.fit(
                train,
                validation_data=(x_val, y_val),
                epochs=training.epochs,
                initial_epoch=initial_epoch,
                callbacks=callbacks,
                verbose=verbose,
            )

        history = fit_member(
            model,
            fit,
            training,
            directory=checkpoint_dir(run_dir, tag.replace("=", "")),
            resume=resume,
            monitor="val_loss",
            label=f"the {tag} net",
            callbacks=list(callbacks),
        )
        timings["training_s"] = round(timings["training_s"] + time.perf_counter() - tick, 2)
        prediction = model.predict(x_test, verbose=0)
        metrics[tag] = score_ar1(prediction, y_val, x_test, y_test)
        histories[tag] = history
        panels[tag] = (y_test, prediction)
        outputs += save_ar1_model(run_dir, tag, model, x_test[:64], prediction[:64])
    plot_scatter(run_dir / "scatter.png", panels, title="AR(1) lag target: truth vs prediction")
    plot_loss(
        run_dir / "loss.png",
        {f"{tag} {k}": v for tag, h in histories.items() for k, v in h.items()},
    )
    epochs = [len(h["loss"]) for h in histories.values()]
    return RunCard.of_run(
        recipe,
        run_dir,
        timings=timings,
        epochs_run=max(epochs),
        epochs_run_per_member=epochs,
        metrics=metrics,
        outputs=outputs,
    )


def save_ar1_model(run_dir, tag, model, x, prediction):
    """Saves the net (atomically) and a sample of its test predictions; returns the names."""
    name = tag.replace("=", "")
    model_file = f"model_{name}.keras"
    staging = run_dir / f".{model_file}.tmp.keras"
    model.save(staging)
    staging.replace(run_dir / model_file)
    write_npz_atomic(run_dir / f"predictions_{name}.npz", x=x, prediction=prediction)
    return [model_file, f"predictions_{name}.npz"]
