"""A chain of invertible transforms whose fitted state is plain JSON."""

import numpy as np

from kseq.errors import ConfigError
from kseq.transforms._base import SeriesTransform
from kseq.transforms.difference import Difference
from kseq.transforms.log_transform import LogTransform
from kseq.transforms.min_max_scale import MinMaxScale
from kseq.transforms.seasonal_adjust import SeasonalAdjust

TRANSFORMS = {
    "log": LogTransform,
    "seasonal_adjust": SeasonalAdjust,
    "difference": Difference,
    "minmax": MinMaxScale,
}


class TransformPipeline(SeriesTransform):
    """Applies transforms in order; inverts them in reverse order.

    Example:

    >>> pipeline = TransformPipeline([LogTransform(), Difference(12), MinMaxScale((-1, 1))])
    >>> z = pipeline.fit_transform(series[train])   # 12 steps shorter than the input
    >>> levels = pipeline.inverse_transform(z_forecast, context=series[:forecast_start])

    With a `SeasonalAdjust` step, every call also takes ``position``: where its input's first
    step lies in the series the pipeline was fitted on (``forecast_start`` above), so that each
    value meets its own season's index.

    Args:
        steps: a sequence of transforms (`LogTransform`, `SeasonalAdjust`, `Difference`,
            `MinMaxScale`).
    """

    def __init__(self, steps=()):
        self.steps = steps

    @property
    def context_length(self):
        """Original-unit history that `inverse_transform` needs: the sum of the lags."""
        return sum(step.context_length for step in self.steps)

    @property
    def uses_position(self):
        return any(step.uses_position for step in self.steps)

    def fit(self, values, y=None, position=0):
        """Fits each step on the output of the ones before; `position`: that of `values`'
        first step in the series (0: it is the series' start)."""
        for step in self.steps:
            step.fit(values, **_position_for(step, position))
            values = step.transform(values, **_position_for(step, position))
            # Differencing drops `lag` steps from the front.
            position = position + step.context_length
        self.n_features_in_ = self.steps[0].n_features_in_ if self.steps else None
        return self

    def transform(self, values, position=0):
        """The transformed values: `context_length` steps shorter than `values`, whose first
        step lies at `position` of the fitted series (an array: one per row of a batch)."""
        self._check_fitted()
        position = np.asarray(position, dtype="int64")
        for step in self.steps:
            values = step.transform(values, **_position_for(step, position))
            position = position + step.context_length
        return values

    def inverse_transform(self, values, context=None, position=0):
        """Maps transformed values back to original units.

        Args:
            values: transformed values, ``(time, columns)`` or ``(batch, time, columns)``;
                they may be the first columns only (a forecaster's targets), while `context`
                holds every column the pipeline was fitted on.
            context: original values just before them (at least `context_length` steps),
                needed when a step is a `Difference`.
            position: where `values`' first step lies in the fitted series (an array: one per
                row of a batch), needed when a step is a `SeasonalAdjust`.
        """
        self._check_fitted()
        position = np.asarray(position, dtype="int64")
        contexts = [context]
        for step in self.steps[:-1]:
            previous = contexts[-1]
            # Only differencing shortens the context; pass it through while there is enough.
            if previous is None or previous.shape[-2] <= step.context_length:
                contexts.append(None)
            else:
                # The context ends where `values` begin.
                start = position - previous.shape[-2]
                contexts.append(step.transform(previous, **_position_for(step, start)))
        for step, step_context in zip(reversed(self.steps), reversed(contexts), strict=True):
            if step_context is not None and np.ndim(step_context) > 1:
                # Values may be the leading columns only (a forecaster's targets).
                columns = 1 if np.ndim(values) == 1 else np.shape(values)[-1]
                step_context = step_context[..., :columns]
            values = step.inverse_transform(
                values, context=step_context, **_position_for(step, position)
            )
        return values

    def get_state(self):
        self._check_fitted()
        return {
            "steps": [
                {"name": _name_of(step), "params": step.get_params(), "state": step.get_state()}
                for step in self.steps
            ]
        }

    @classmethod
    def from_state(cls, state):
        """Rebuilds a fitted pipeline from `get_state` output."""
        steps = []
        for entry in state["steps"]:
            if entry["name"] not in TRANSFORMS:
                raise ConfigError(
                    f"Unknown transform {entry['name']!r}; known: {', '.join(TRANSFORMS)}."
                )
            step = TRANSFORMS[entry["name"]](**entry["params"])
            steps.append(step.set_state(entry["state"]))
        pipeline = cls(steps)
        pipeline.n_features_in_ = steps[0].n_features_in_ if steps else None
        return pipeline


def _position_for(step, position):
    """The ``position`` keyword for the steps that take it."""
    return {"position": position} if step.uses_position else {}


def _name_of(step):
    for name, cls in TRANSFORMS.items():
        if type(step) is cls:
            return name
    raise TypeError(f"{type(step).__name__} cannot be saved; use one of {', '.join(TRANSFORMS)}.")
