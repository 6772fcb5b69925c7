"""Lazy batching of windows for `model.fit`, on every backend."""

import math

import numpy as np

from kseq._keras import keras
from kseq.data.windows import count_served_windows


class WindowDataset(keras.utils.PyDataset):
    """Batches of windows, cut lazily from zero-copy window views.

    Only the batch being served is copied out of the series, so memory stays at the series
    plus one batch whatever the number of windows.

    Example:

    >>> x, y = make_windows(series, lookback=30)
    >>> data = WindowDataset(x, y, batch_size=32, shuffle=True, seed=0)
    >>> model.fit(backend_dataset(data), epochs=10, shuffle=False)  # kseq.runtime

    Pass `shuffle=False` to `fit`: the dataset owns the order, and Keras's default
    (`shuffle=True`) would reorder its batches once more with Python's `random`.

    Args:
        x: inputs of shape ``(num_windows, lookback, num_features)`` (`make_windows` output).
        y: targets of shape ``(num_windows, horizon, num_targets)``.
        batch_size: windows per batch.
        shuffle: visit the windows in a new seeded order each epoch.
        random_windows: draw each batch's windows uniformly at random with replacement (the
            sine study's sampling) instead of visiting every window once.
        steps_per_epoch: batches per epoch; by default enough to cover every window once.
        seed: seed of the shuffling and sampling.
        initial_epoch: the first epoch served (a resumed fit's `initial_epoch`).
        batch_multiple: batches hold a multiple of this many windows (`count_served_windows`).
        dtype: dtype of the served batches.
        **kwargs: `keras.utils.PyDataset` arguments (``workers``, ``use_multiprocessing``,
            ``max_queue_size``).
    """

    def __init__(
        self,
        x,
        y,
        batch_size=32,
        *,
        shuffle=False,
        random_windows=False,
        steps_per_epoch=None,
        seed=None,
        initial_epoch=0,
        batch_multiple=1,
        dtype="float32",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if len(x) != len(y):
            raise ValueError(
                f"`x` and `y` must hold the same number of windows. Received {len(x)} and {len(y)}."
            )
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"`batch_size` must be a positive integer. Received: {batch_size!r}")
        if len(x) == 0:
            raise ValueError("`x` holds no windows.")
        self.x = x
        self.y = y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.random_windows = random_windows
        self.seed = seed
        self.dtype = dtype
        # Data-parallel batches hold a multiple of the device count: a default pass leaves
        # out the remainder of its last partial batch.
        self._served = count_served_windows(len(x), self.batch_size, batch_multiple)
        self._steps = (
            int(steps_per_epoch)
            if steps_per_epoch is not None
            else math.ceil(self._served / self.batch_size)
        )
        # The explicit setting, or None: one pass over the windows, ending with a partial batch.
        self.steps_per_epoch = None if steps_per_epoch is None else int(steps_per_epoch)
        # The order of epoch e depends on (seed, e) only: a resumed fit gets the same batches.
        self._epoch = int(initial_epoch)
        self._order = self.order_at(self._epoch)

    def order_at(self, epoch):
        """Window positions served in epoch `epoch` (batch i is ``[i*b:(i+1)*b]``): what
        `order` holds once the dataset has reached that epoch. Unseeded shuffles and random
        windows differ on each call."""
        num = len(self.x)
        rng = np.random.default_rng(None if self.seed is None else (self.seed, epoch))
        # int32 positions halve the order's memory for series under 2**31 windows.
        dtype = np.int32 if num < 2**31 else np.int64
        if self.random_windows:
            return rng.integers(0, num, size=self._steps * self.batch_size, dtype=dtype)
        order = np.arange(num, dtype=dtype)
        if self.shuffle:
            rng.shuffle(order)  # in place: no second copy of the order
        if self.steps_per_epoch is None and self._served < num:
            order = order[: self._served]
        # Only an explicit steps_per_epoch past one pass needs the order repeated; the default
        # pass ends with a partial batch.
        repeats = (
            math.ceil(self._steps * self.batch_size / num)
            if self.steps_per_epoch is not None
            else 1
        )
        return np.tile(order, repeats) if repeats > 1 else order

    def __len__(self):
        return self._steps

    @property
    def full_batch_size(self):
        """`batch_size` when every batch of an epoch holds exactly that many windows (random
        windows, a set `steps_per_epoch`, or one pass that divides evenly), else `None`. A native
        pipeline then gives the batch axis a static size, which some kernels choose by."""
        full = (
            self.random_windows  # steps x batch_size draws
            or self.steps_per_epoch is not None
            or self._served % self.batch_size == 0
        )
        return self.batch_size if full else None

    @property
    def order(self):
        """Window positions served this epoch, in order (batch i is ``order[i*b:(i+1)*b]``)."""
        return self._order

    @property
    def epoch(self):
        """The epoch served now: `initial_epoch`, plus one for each `on_epoch_end`."""
        return self._epoch

    def __getitem__(self, index):
        if index >= self._steps:
            raise IndexError(f"Batch {index} is past the last batch ({self._steps - 1}).")
        stop = min((index + 1) * self.batch_size, len(self._order))
        rows = self._order[index * self.batch_size : stop]
        if not self.random_windows and not self.shuffle and len(rows):
            # Sequential batches are contiguous: a slice avoids fancy-indexing overhead.
            rows = slice(int(rows[0]), int(rows[-1]) + 1)
        return (
            np.asarray(self.x[rows], dtype=self.dtype),
            np.asarray(self.y[rows], dtype=self.dtype),
        )

    def on_epoch_end(self):
        self._epoch += 1
        if self.shuffle or self.random_windows:
            self._order = self.order_at(self._epoch)
