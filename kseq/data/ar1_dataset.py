"""Fresh AR(1) paths every epoch, for the AR(1) lag-function problem."""

import numpy as np

from kseq._keras import keras
from kseq.data.synthetic import make_ar1


class AR1Dataset(keras.utils.PyDataset):
    """Serves batches of newly drawn AR(1) paths and their lag targets (see `make_ar1`).

    Each epoch draws ``steps_per_epoch · batch_size`` new paths from a seed derived from
    `seed` and the epoch number, so runs are reproducible and no path is seen twice.

    Args:
        batch_size: paths per batch.
        steps_per_epoch: batches per epoch.
        num_steps: steps per path (``T``).
        rho: AR coefficient.
        lag_weight: ``w`` in ``y_t = x_t² + w·x_{t-1}²``.
        seed: base seed.
        **kwargs: `keras.utils.PyDataset` arguments.
    """

    def __init__(
        self,
        batch_size=32,
        steps_per_epoch=100,
        *,
        num_steps=100,
        rho=0.1,
        lag_weight=0.0,
        seed=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.batch_size = int(batch_size)
        self.steps_per_epoch = int(steps_per_epoch)
        self.num_steps = int(num_steps)
        self.rho = rho
        self.lag_weight = lag_weight
        self.seed = seed
        self._epoch = 0
        self._draw()

    def _draw(self):
        self._x, self._y = make_ar1(
            self.batch_size * self.steps_per_epoch,
            num_steps=self.num_steps,
            rho=self.rho,
            lag_weight=self.lag_weight,
            seed=np.random.SeedSequence([self.seed, self._epoch]),
        )

    def __len__(self):
        return self.steps_per_epoch

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self._x[rows], self._y[rows]

    def on_epoch_end(self):
        self._epoch += 1
        self._draw()
