"""A chain of invertible transforms whose fitted state is plain JSON."""

import numpy as np

from kseq.errors import ConfigError
from kseq.transforms._base import SeriesTransform
from kseq.transforms.difference import Difference
from kseq.transforms.log_transform import LogTransform
from kseq.transforms.min_max_scale import MinMaxScale

TRANSFORMS = {"log": LogTransform, "difference": Difference, "minmax": MinMaxScale}


class TransformPipeline(SeriesTransform):
    """Applies transforms in order; inverts them in reverse order.

    Example:

    >>> pipeline = TransformPipeline([LogTransform(), Difference(12), MinMaxScale((-1, 1))])
    >>> z = pipeline.fit_transform(series[train])   # 12 steps shorter than the input
    >>> levels = pipeline.inverse_transform(z_forecast, context=series[:forecast_start])

    Args:
        steps: a sequence of transforms (`LogTransform`, `Difference`, `MinMaxScale`).
    """

    def __init__(self, steps=()):
        self.steps = steps

    @property
    def context_length(self):
        """Original-unit history that `inverse_transform` needs: the sum of the lags."""
        return sum(step.context_length for step in self.steps)

    def fit(self, values, y=None):
        for step in self.steps:
            values = step.fit_transform(values)
        self.n_features_in_ = self.steps[0].n_features_in_ if self.steps else None
        return self

    def transform(self, values):
        self._check_fitted()
        for step in self.steps:
            values = step.transform(values)
        return values

    def inverse_transform(self, values, context=None):
        """Maps transformed values back to original units.

        Args:
            values: transformed values, ``(time, columns)`` or ``(batch, time, columns)``;
                they may be the first columns only (a forecaster's targets), while `context`
                holds every column the pipeline was fitted on.
            context: original values just before them (at least `context_length` steps),
                needed when a step is a `Difference`.
        """
        self._check_fitted()
        contexts = [context]
        for step in self.steps[:-1]:
            previous = contexts[-1]
            # Only differencing shortens the context; pass it through while there is enough.
            if previous is None or previous.shape[-2] <= step.context_length:
                contexts.append(None)
            else:
                contexts.append(step.transform(previous))
        for step, step_context in zip(reversed(self.steps), reversed(contexts), strict=True):
            if step_context is not None and np.ndim(step_context) > 1:
                # Values may be the leading columns only (a forecaster's targets).
                columns = 1 if np.ndim(values) == 1 else np.shape(values)[-1]
                step_context = step_context[..., :columns]
            values = step.inverse_transform(values, context=step_context)
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


def _name_of(step):
    for name, cls in TRANSFORMS.items():
        if type(step) is cls:
            return name
    raise TypeError(f"{type(step).__name__} cannot be saved; use one of {', '.join(TRANSFORMS)}.")
