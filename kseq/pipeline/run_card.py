"""The record of one run: what ran, on what, for how long, and how well."""

import dataclasses
import json
import math
import platform
from dataclasses import dataclass, field

import numpy as np

import kseq
from kseq._keras import keras
from kseq.evaluation.combination import EQUAL_WEIGHT
from kseq.evaluation.tables import format_metrics
from kseq.pipeline.values import (
    FutureForecast,
    IntervalCoverage,
    ValidationScores,
    rename_old_candidate,
    rename_old_keys,
)


def read_versions():
    """The versions that decide a run's numbers (the active backend's among them)."""
    backend = keras.backend.backend()
    return {
        "python": platform.python_version(),
        "kseq": kseq.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        backend: __import__(backend).__version__,
    }


@dataclass(frozen=True)
class PanelSummary:
    """What a panel run chose and on what: the method picked on the validation part, the
    validation means per method, the baselines' seconds, the series skipped."""

    num_series: int
    chosen: str
    reason: str
    validation: dict  # {"mase": {method: mean}, "smape": {...}} on the validation part
    # The classical model the choice keeps unless a candidate beats it on evidence, and each
    # challenger's one-sided p-value against it (kseq.evaluation.choice).
    incumbent: str | None = None
    p_values: dict = field(default_factory=dict)
    # The net's weight in each of its combinations ({"kseq+arima": 0.5};
    # kseq.evaluation.combination).
    weights: dict = field(default_factory=dict)
    baseline_seconds: dict = field(default_factory=dict)
    cached_baselines: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)
    # Interval coverage by part, method and level: {"test": {"kseq": {"80": share inside},
    # "chosen": {...}}, "validation": {"kseq": ...}} (conformal intervals: the test part only,
    # being fitted on the validation part; a quantile head's: both parts).
    coverage: dict = field(default_factory=dict)


_NESTED = {
    "validation": ValidationScores,
    "interval": IntervalCoverage,
    "future": FutureForecast,
    "panel": PanelSummary,
}


def describe_weight(weights, chosen):
    """`` (the net weighing 0.75)`` when `chosen` is a combination of the net whose weight is
    not 1/2, else ``""``."""
    weight = (weights or {}).get(chosen)
    return "" if weight in (None, EQUAL_WEIGHT) else f" (the net weighing {weight:g})"


def _nan_to_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(v) for v in value]
    return value


@dataclass
class RunCard:
    """What a run did, written as ``run_card.json`` / ``run_card.md``.

    Study, backtest, CLI and benchmarks read these fields; `to_json` and `from_json` round-trip
    them. ``metrics`` maps a row (``"kseq (one-step)"``, ``"sarima (24-step)"``, or an AR(1)
    lag weight) to ``{metric: value}`` in original units, on the test part only.
    """

    recipe: str
    backend: str
    seed: int
    config: dict
    run_dir: str
    versions: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    leakage: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    epochs_run: int = 0
    epochs_run_per_member: list = field(default_factory=list)
    best_epoch_per_member: list | None = None
    refit_epochs_per_member: list | None = None
    final_loss: float | None = None
    final_val_loss: float | None = None
    metrics: dict = field(default_factory=dict)
    validation: ValidationScores | None = None
    interval: IntervalCoverage | None = None
    # Conformal intervals of the model and of the validation-chosen candidate ({"kseq":
    # `ConformalIntervals.to_dict`, "chosen": ...}) and their empirical coverage on the test
    # part: {"24-step": {"80": share inside, "95": ...}, "chosen one-step": {...}, ...}.
    intervals: dict = field(default_factory=dict)
    interval_coverage: dict = field(default_factory=dict)
    future: FutureForecast | None = None
    panel: PanelSummary | None = None
    distribution: dict | None = None  # engine, replicas, processes, devices (data-parallel)
    # [data] related: `RelatedCut.describe()` of what the members trained on beside the series
    related: dict | None = None
    # Keys the recipe left out, chosen from the data: {"section.key": "value: why"}
    inferred: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)

    @property
    def ensemble(self):
        return len(self.epochs_run_per_member)

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self):
        # Strict JSON: an undefined metric (MAPE of a zero, MASE of a constant history) is null.
        return (
            json.dumps(_nan_to_none(self.to_dict()), indent=2, default=str, allow_nan=False) + "\n"
        )

    @classmethod
    def of_run(cls, recipe, run_dir, **fields):
        """The card of a run of `recipe` in `run_dir` here: its name, seed and keys, the
        backend and the versions, with the stage's `fields`."""
        return cls(
            recipe=recipe.name,
            backend=keras.backend.backend(),
            seed=recipe.recipe.seed,
            config=recipe.to_dict(),
            run_dir=str(run_dir),
            versions=read_versions(),
            **fields,
        )

    @classmethod
    def from_json(cls, text):
        values = json.loads(text)
        values.pop("fine_tune", None)  # cards of the removed [training] fine_tune_epochs
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"Not a run card: unknown field {unknown[0]!r}.")
        values["metrics"] = {
            rename_old_candidate(row): {
                k: float("nan") if v is None else v for k, v in scores.items()
            }
            for row, scores in values.get("metrics", {}).items()
        }
        values["intervals"] = rename_old_keys(values.get("intervals"))
        validation = values.get("validation")
        if validation is not None:  # cards saved when the net's candidate was "model"
            validation["chosen"] = rename_old_candidate(validation.get("chosen"))
            for key in ("choice", "weights"):
                validation[key] = rename_old_keys(validation.get(key))
        for name, nested in _NESTED.items():
            if values.get(name) is not None:
                values[name] = nested(**values[name])
        return cls(**values)

    def describe_intervals(self):
        """The run card's lines on the conformal intervals: how each was calibrated, and its
        coverage on the test part."""
        lines = []
        for name, calibrated in self.intervals.items():
            kind = "multiplicative" if calibrated["multiplicative"] else "additive"
            if self.panel is not None:
                kind += " in units of each series' scale"
            levels = ", ".join(f"{level:.0%}" for level in calibrated["levels"])
            windows = calibrated.get("num_windows", 1)
            steps = len(calibrated["scale"])
            if windows > 1:
                where = (
                    f"the validation part and the {windows - 1} window(s) before it, the "
                    "members retrained for each"
                )
            elif self.panel is not None:  # origins inside the validation part
                where = (
                    "the validation part, each point forecast from every origin in it before "
                    f"the point, up to {steps} steps ahead"
                )
            else:  # origins reaching back before the validation part
                where = (
                    "the validation part, each point forecast from every origin 1 to "
                    f"{steps} steps before it"
                )
            lines.append(
                f"- conformal intervals of the {name} forecast ({levels}; {kind}) from "
                f"{calibrated['num_residuals']} held-out residuals ({where})"
            )
            # Coverage keys: "24-step" and "one-step" for the model, "chosen 24-step", ...
            prefix = "" if name == "kseq" else f"{name} "
            for horizon, shares in self.interval_coverage.items():
                own = horizon.startswith(prefix) if prefix else " " not in horizon
                if not own:
                    continue  # another forecast's
                listed = ", ".join(f"{level} % → {share:.0%}" for level, share in shares.items())
                lines.append(
                    f"  - empirical coverage on the test part, {horizon.removeprefix(prefix)}: "
                    f"{listed}"
                )
        return lines

    def describe_related(self):
        """The card's line on the related series trained on, if any."""
        if self.related is None:
            return []
        related = self.related
        left_out = related["left_out"]
        return [
            f"- also trained on: {related['series_used']} related series of "
            f"`{related['source']}` up to {related['until']} ({related['points']} points)"
            + (
                f"; {len(left_out)} left out, too short there: "
                + ", ".join(list(left_out)[:5])
                + (", ..." if len(left_out) > 5 else "")
                + " (all listed in run_card.json)"
                if left_out
                else ""
            )
        ]

    def describe_panel(self):
        """A panel run's lines: its choice, the baselines' time and interval coverage."""
        if self.panel is None:
            return []
        lines = [
            f"- panel of {self.panel.num_series} series; chosen: **{self.panel.chosen}**"
            f"{describe_weight(self.panel.weights, self.panel.chosen)} "
            f"({self.panel.reason}); baselines took {self.panel.baseline_seconds} s "
            f"(cached: {self.panel.cached_baselines or 'none'})"
        ]
        for part, methods in self.panel.coverage.items():
            for method, shares in methods.items():
                listed = ", ".join(f"{level} % → {share:.0%}" for level, share in shares.items())
                lines.append(f"- {method}'s interval coverage on the {part} part: {listed}")
        return lines

    def describe_future(self):
        """The table of forecasts past the end, if any."""
        if self.future is None:
            return []
        bounds = self.future.intervals
        header = "| ds | forecast |" + "".join(f" {lvl} % interval |" for lvl in bounds)
        lines = ["", "## Forecast past the end", "", header, "|---|---|" + "---|" * len(bounds)]
        for i, (d, v) in enumerate(zip(self.future.ds, self.future.values, strict=True)):
            cells = "".join(f" {lo[i]:.6g}–{hi[i]:.6g} |" for lo, hi in bounds.values())
            lines.append(f"| {d} | {v:.6g} |{cells}")
        return lines

    def to_markdown(self):
        lines = [
            f"# Run card: {self.recipe}",
            "",
            f"- backend: `{self.backend}`; seed {self.seed}",
            "- versions: " + ", ".join(f"{k} {v}" for k, v in self.versions.items()),
            "- timings: " + ", ".join(f"{k} {v}" for k, v in self.timings.items()),
            f"- epochs run: {self.epochs_run} (per member: {self.epochs_run_per_member})",
            "- trained on: "
            + (
                "one device"
                if self.distribution is None
                else f"{self.distribution['replicas']} devices in "
                f"{self.distribution['processes']} process(es), "
                f"{self.distribution['engine']}"
            ),
        ]
        lines += self.describe_related()
        if self.final_loss is not None:
            lines.append(f"- final training loss: {self.final_loss:.4g}")
        for key, reason in self.inferred.items():
            lines.append(f"- chosen from the data: `{key}` = {reason}")
        for leak in self.leakage:
            lines.append(f"- **LEAKAGE: {leak}. These test scores are not honest.**")
        for note in self.notes:
            lines.append(f"- note: {note}")
        if self.validation is not None and self.validation.choice:
            listed = ", ".join(
                f"{name} {'n/a' if mase is None or mase != mase else f'{mase:.3f}'}"
                for name, mase in self.validation.choice.items()
            )
            weight = describe_weight(self.validation.weights, self.validation.chosen)
            lines.append(
                f"- validation MASE (multi-step) per candidate: {listed}; chosen: "
                f"**{self.validation.chosen}**{weight}"
            )
        lines += self.describe_intervals()
        if self.interval is not None:
            lines.append(
                f"- one-step {self.interval.level:.0%} interval ({self.interval.lower:g}–"
                f"{self.interval.upper:g} quantiles): empirical coverage "
                f"{self.interval.one_step_coverage:.0%} on the test part"
            )
        lines += self.describe_panel()
        lines += self.describe_future()
        lines += [
            "",
            "## Metrics (original units)",
            "",
            format_metrics(self.metrics),
            "",
            "## Config",
            "",
            "```json",
            json.dumps(self.config, indent=2),
            "```",
            "",
        ]
        return "\n".join(lines)
