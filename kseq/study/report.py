"""Study outputs: results.csv/.md, one plot per parameter and the best trial's recipe."""

import json
from dataclasses import dataclass
from pathlib import Path

from kseq._io import write_text_atomic
from kseq.config import load_recipe
from kseq.evaluation.tables import format_frame


@dataclass(frozen=True)
class StudyReport:
    """What `write_outputs` wrote: trial rows, plot file names, the best trial's number."""

    rows: int
    plots: list
    best: int | None


def write_outputs(spec, study, out_dir):
    """Writes results.csv, results.md, one plot per parameter and best_recipe.toml."""
    import pandas as pd

    out_dir = Path(out_dir)
    objective = spec.settings.objective
    from kseq.study.worker import retried_trial_number

    rows = []
    for trial in study.get_trials(deepcopy=False):
        if trial.user_attrs.get("discarded"):
            continue  # a grid point another worker took first: nothing ran
        row = {"trial": trial.number, "state": trial.state.name}
        row.update(trial.params)
        # A pruned trial's Optuna value is its last val_loss, not the objective: keep it apart.
        complete = trial.state.name == "COMPLETE"
        row[objective] = trial.value if complete else None
        row["epochs"] = trial.user_attrs.get("epochs")
        if trial.state.name == "PRUNED" and trial.intermediate_values:
            row["epochs"] = max(trial.intermediate_values) + 1
        row["seconds"] = trial.user_attrs.get("seconds")
        row["duplicate_of"] = trial.user_attrs.get("duplicate_of")
        # The trial this one re-runs (its worker went silent), and who ran it.
        row["retry_of"] = retried_trial_number(trial)
        row["worker"] = trial.user_attrs.get("worker")
        rows.append(row)
    frame = pd.DataFrame(rows)
    write_text_atomic(out_dir / "results.csv", frame.to_csv(index=False))
    ordered = frame.sort_values(
        objective, ascending=spec.settings.direction == "minimize", na_position="last"
    )
    write_text_atomic(out_dir / "results.md", format_frame(ordered))
    plots = _plot_parameters(frame, spec, out_dir)
    best = None
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if complete:
        best = study.best_trial
        overrides = list(spec.overrides) + [
            (*key.split(".", 1), value) for key, value in best.params.items()
        ]
        config = load_recipe(spec.recipe, overrides).to_dict()
        config["recipe"]["name"] = f"{spec.settings.name}-best"
        write_text_atomic(
            out_dir / "best_recipe.toml",
            to_toml(
                config,
                header=(
                    f"# Best trial {best.number} of study {spec.settings.name!r}: "
                    f"{objective} = {best.value:.6g}\n"
                ),
            ),
        )
    return StudyReport(rows=len(rows), plots=plots, best=None if best is None else best.number)


def _plot_parameters(frame, spec, out_dir):
    import numpy as np
    from matplotlib.figure import Figure

    from kseq._io import save_figure_atomic

    objective = spec.settings.objective
    done = frame[frame["state"] == "COMPLETE"]
    if done.empty:
        return []  # nothing to plot: every trial failed or was pruned
    paths = []
    for key, space in spec.space.items():
        if key not in done:
            continue
        figure = Figure(figsize=(5.5, 4))
        axes = figure.subplots()
        values = done[key]
        if isinstance(space, list):
            labels = [str(v) for v in space]
            positions = np.array([labels.index(str(v)) for v in values], dtype=float)
            jitter = np.random.default_rng(0).uniform(-0.12, 0.12, len(positions))
            axes.scatter(positions + jitter, done[objective], alpha=0.6)
            axes.set_xticks(range(len(labels)), labels)
        else:
            axes.scatter(values, done[objective], alpha=0.6)
            if space.get("log"):
                axes.set_xscale("log")
        if (done[objective] > 0).all():
            axes.set_yscale("log")
        axes.set_xlabel(key)
        axes.set_ylabel(objective)
        axes.grid(alpha=0.3)
        path = out_dir / f"param_{key.replace('.', '_')}.png"
        save_figure_atomic(figure, path)
        paths.append(path.name)
    return paths


def to_toml(config, header=""):
    """Writes a recipe config (tables of str/int/float/bool/lists) as TOML."""
    lines = [header] if header else []
    for section, values in config.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            if value is None:
                continue
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"Cannot write {value!r} as TOML.")
