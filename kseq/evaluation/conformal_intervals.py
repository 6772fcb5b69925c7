"""Prediction intervals from out-of-sample residuals (split conformal prediction, with a
per-step scale), for any point forecaster."""

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConformalIntervals:
    """Intervals ``forecast ∘ (± quantile × scale[step])`` from held-out residuals.

    A forecast made `s` steps ahead is less certain than one made one step ahead, and a
    handful of held-out points per step is too few for a 95 % quantile. So the residuals of
    every step are divided by that step's scale (their root mean square, made non-decreasing
    in the step), pooled, and one conformal quantile per level is taken from the pool
    (normalised split-conformal prediction). Multiplicative intervals work on log ratios
    ``log(truth / forecast)``, for positive series modelled in logs.

    Fitted with `fit`; the fields are plain numbers (`to_dict` for the run card).

    Attributes:
        levels: nominal coverages, e.g. ``(0.8, 0.95)``.
        quantiles: the pooled normalised residuals' conformal quantile per level.
        scale: ``(steps,)`` residual scale per step ahead (index 0: one step ahead).
        multiplicative: residuals are log ratios, intervals multiply the forecast.
        num_residuals: residuals pooled.
        num_windows: held-out windows they came from (each forecast by a model fitted before
            it).
    """

    levels: tuple
    quantiles: tuple
    scale: tuple
    multiplicative: bool
    num_residuals: int
    num_windows: int = 1

    @classmethod
    def fit(cls, truth, forecasts, levels=(0.8, 0.95), multiplicative=False, num_windows=1):
        """Fits intervals on held-out points.

        Args:
            truth: ``(num_points,)`` true values the forecaster did not train on.
            forecasts: ``(num_points, steps)``: column ``s`` forecasts each point from the
                history ending ``s + 1`` steps before it; NaN where there is none.
            levels: nominal coverages, each in (0, 1).
            multiplicative: score log ratios (needs positive truth and forecasts).
            num_windows: how many held-out windows the rows come from (recorded only).

        Returns:
            A `ConformalIntervals`.
        """
        truth = np.asarray(truth, dtype="float64")
        forecasts = np.asarray(forecasts, dtype="float64")
        if forecasts.ndim != 2 or forecasts.shape[0] != truth.shape[0]:
            raise ValueError(
                "`forecasts` must be (num_points, steps) with one row per truth value. "
                f"Received shapes {forecasts.shape} and {truth.shape}."
            )
        levels = tuple(float(level) for level in levels)
        for level in levels:
            if not 0.0 < level < 1.0:
                raise ValueError(f"Each level must be in (0, 1). Received: {level!r}")
        if multiplicative:
            if (truth <= 0).any() or (forecasts[np.isfinite(forecasts)] <= 0).any():
                raise ValueError(
                    "Multiplicative intervals need positive values and forecasts; use "
                    "multiplicative=False."
                )
            residuals = np.log(truth[:, None] / forecasts)
        else:
            residuals = truth[:, None] - forecasts
        counts = np.isfinite(residuals).sum(axis=0)
        if (counts == 0).any():
            raise ValueError(
                f"No held-out residual for step {int(np.argmin(counts)) + 1}; every step "
                "needs at least one."
            )
        scale = np.sqrt(np.nanmean(residuals**2, axis=0))
        # Later steps are no more certain than earlier ones: a dip is noise in few residuals.
        scale = np.maximum.accumulate(np.maximum(scale, np.finfo("float64").tiny))
        scores = np.abs(residuals / scale)
        scores = np.sort(scores[np.isfinite(scores)])
        num = len(scores)
        quantiles = []
        for level in levels:
            # The finite-sample conformal quantile: the ceil((n + 1) level)-th smallest score;
            # past the largest, the interval is unbounded.
            rank = math.ceil((num + 1) * level)
            quantiles.append(float(scores[rank - 1]) if rank <= num else math.inf)
        return cls(
            levels=levels,
            quantiles=tuple(quantiles),
            scale=tuple(float(s) for s in scale),
            multiplicative=bool(multiplicative),
            num_residuals=num,
            num_windows=int(num_windows),
        )

    @property
    def steps(self):
        return len(self.scale)

    def bounds(self, forecast, level, steps_ahead=None):
        """The interval of `level` around forecasts.

        Args:
            forecast: ``(steps,)`` forecasts of consecutive points, the first one step ahead;
                or any shape with `steps_ahead` of the same shape.
            level: one of `levels`.
            steps_ahead: how many steps ahead each forecast was made (1 = one step);
                ``1, 2, ...`` along the forecast by default.

        Returns:
            ``(lower, upper)`` arrays shaped like `forecast`.
        """
        if level not in self.levels:
            raise ValueError(f"`level` must be one of {list(self.levels)}. Received: {level!r}")
        forecast = np.asarray(forecast, dtype="float64")
        if steps_ahead is None:
            steps_ahead = np.arange(1, forecast.shape[0] + 1)
        steps_ahead = np.broadcast_to(np.asarray(steps_ahead, dtype="int64"), forecast.shape)
        if steps_ahead.size and (steps_ahead.min() < 1 or steps_ahead.max() > self.steps):
            raise ValueError(
                f"Intervals were fitted for 1 to {self.steps} steps ahead; received "
                f"{int(steps_ahead.min())} to {int(steps_ahead.max())}."
            )
        width = self.quantiles[self.levels.index(level)] * np.asarray(self.scale)[steps_ahead - 1]
        if self.multiplicative:
            return forecast * np.exp(-width), forecast * np.exp(width)
        return forecast - width, forecast + width

    def to_dict(self):
        return {
            "levels": list(self.levels),
            # JSON has no infinity: an unbounded level (too few residuals) is None.
            "quantiles": [q if math.isfinite(q) else None for q in self.quantiles],
            "scale": list(self.scale),
            "multiplicative": self.multiplicative,
            "num_residuals": self.num_residuals,
            "num_windows": self.num_windows,
        }

    @classmethod
    def from_dict(cls, config):
        """The inverse of `to_dict` (a saved run's intervals)."""
        return cls(
            levels=tuple(float(v) for v in config["levels"]),
            quantiles=tuple(math.inf if v is None else float(v) for v in config["quantiles"]),
            scale=tuple(float(v) for v in config["scale"]),
            multiplicative=bool(config["multiplicative"]),
            num_residuals=int(config["num_residuals"]),
            # Saved before windows were counted: the validation part alone.
            num_windows=int(config.get("num_windows", 1)),
        )
