"""What resumable checkpoints cost: one member of a recipe trained without them, with the
default policy and with one every epoch, side by side in one run.

    KERAS_BACKEND=jax python benchmarks/checkpoint_cost.py [--recipe airpassengers] [--repeats 3]

Each variant trains the same member (same seed, so the same epochs) `--repeats` times, in
rounds (every variant once per round, the order rotated per round): the checkpoint's cost is
the ratio of its training time to the variant without checkpoints. Early stopping is off, so
every variant runs every epoch of the recipe. Writes
benchmarks/results/checkpoint_cost-<backend>.json.
"""

import argparse
import dataclasses
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from kseq.backend import ensure_backend

ensure_backend()

import keras  # noqa: E402

from kseq.config import load_recipe, recipe_path  # noqa: E402
from kseq.pipeline.fit import build_member, fit_member  # noqa: E402
from kseq.pipeline.load import load_series  # noqa: E402
from kseq.pipeline.split import split_run  # noqa: E402
from kseq.pipeline.transform import build_transforms, fit_transforms  # noqa: E402
from kseq.training_config import TrainingConfig  # noqa: E402

VARIANTS = {
    # name: (checkpoint_every, checkpoint_seconds); None: no checkpoint callback at all.
    "none": None,
    "default (every 10 s)": (0, 10.0),
    "every epoch": (1, 0.0),
}


def train_once(recipe, data, variant, directory):
    """Seconds to train member 0 under `variant`, and its optimizer steps (a check that
    every variant trained as much)."""
    training = dataclasses.replace(recipe.training, early_stopping=False)
    transforms = fit_transforms(
        build_transforms(recipe.transforms), recipe.transforms, data.train, data.values
    )
    forecaster = build_member(recipe, data.values.shape[1], 0, transforms)
    config = TrainingConfig.from_recipe(training, recipe.windows, seed=recipe.recipe.seed)
    config = dataclasses.replace(config, verbose=0)

    def fit(initial_epoch, callbacks):
        forecaster.fit(
            data.train,
            data.validation,
            training=dataclasses.replace(config, initial_epoch=initial_epoch),
            callbacks=callbacks,
            fit_transforms=False,
        )

    started = time.perf_counter()
    if VARIANTS[variant] is None:
        fit(0, [keras.callbacks.TerminateOnNaN()])
    else:
        every, seconds = VARIANTS[variant]
        policy = dataclasses.replace(training, checkpoint_every=every, checkpoint_seconds=seconds)
        fit_member(
            forecaster.model,
            fit,
            policy,
            directory=directory,
            resume=False,
            monitor="val_loss",
            label="member 0",
        )
    seconds = time.perf_counter() - started
    return seconds, forecaster.model.optimizer.iterations.numpy().item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="airpassengers")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, help="override [training] epochs")
    args = parser.parse_args(argv)
    overrides = [("training", "epochs", args.epochs)] if args.epochs else []
    recipe = load_recipe(recipe_path(args.recipe), overrides)
    data = split_run(load_series(recipe.data, recipe.recipe.seed), recipe.split)
    names = list(VARIANTS)
    times = {name: [] for name in names}
    steps = {}
    # A warm-up run: the first fit of a process pays for tracing and compilation.
    with tempfile.TemporaryDirectory() as out:
        train_once(recipe, data, "none", Path(out) / "warmup")
        for round_ in range(args.repeats):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                folder = Path(out) / f"{round_}-{names.index(name)}"
                seconds, steps[name] = train_once(recipe, data, name, folder)
                times[name].append(seconds)
    backend = keras.backend.backend()
    base = statistics.median(times["none"])
    rows = {
        name: {
            "median_s": round(statistics.median(values), 3),
            "runs_s": [round(v, 3) for v in values],
            "ratio_to_none": round(statistics.median(values) / base, 4),
            "optimizer_steps": steps[name],
        }
        for name, values in times.items()
    }
    epochs = recipe.training.epochs
    lines = [
        f"{args.recipe}: member 0, {epochs} epochs, early stopping off; backend {backend}, "
        f"{args.repeats} interleaved repeats (median)",
        "",
        "| checkpoints | training s | ratio to none |",
        "|---|---|---|",
    ]
    for name, row in rows.items():
        lines.append(f"| {name} | {row['median_s']:.2f} | {row['ratio_to_none']:.3f} |")
    print("\n".join(lines))
    result = {
        "benchmark": "checkpoint_cost",
        "recipe": args.recipe,
        "backend": backend,
        "epochs": epochs,
        "repeats": args.repeats,
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "variants": rows,
    }
    out = Path(__file__).parent / "results" / f"checkpoint_cost-{backend}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
