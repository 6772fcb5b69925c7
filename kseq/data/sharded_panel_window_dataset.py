"""Training windows of a panel stored in shards, one shard in memory at a time."""

import numpy as np

from kseq._keras import keras
from kseq.data.panel_window_dataset import make_window_features


class ShardedPanelWindowDataset(keras.utils.PyDataset):
    """Batches of ``(lookback → horizon)`` windows from the shards of a panel (`PanelShards`),
    for `model.fit`, holding one shard at a time.

    Each epoch visits the shards in a new seeded order and each shard's windows in a new seeded
    order; a batch never mixes shards (the last batch of a shard may be partial). The number of
    batches per shard is known before any shard is read (from the series' lengths), so Keras
    sees a fixed epoch length. Windows are built as in `PanelWindowDataset`.

    Args:
        shards: the `PanelShards` to read (one worker's `part` in a data-parallel job).
        prepare: ``prepare(panel) -> (values, scaled, phases)``, the forecaster's transforms.
        starts_of: ``starts_of(panel) -> (num_windows,)`` window starts inside a loaded shard.
        window_counts: ``(num_shards,)`` windows each shard yields (`starts_of`'s length),
            computed from the lengths before reading.
        lookback, horizon, season_length: window sizes and the season of the phases.
        batch_size: windows per batch.
        batch_multiple: batches hold a multiple of this many windows (data-parallel on JAX).
        shuffle: shuffle the shards and their windows each epoch.
        steps_per_epoch: serve only this many batches an epoch (workers of one job must all
            serve as many); every batch by default.
        seed: seed of the order.
        initial_epoch: the first epoch served (a resumed fit's `initial_epoch`).
    """

    def __init__(
        self,
        shards,
        prepare,
        starts_of,
        window_counts,
        *,
        lookback,
        horizon,
        season_length=1,
        batch_size=256,
        batch_multiple=1,
        shuffle=True,
        steps_per_epoch=None,
        seed=None,
        initial_epoch=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        counts = np.asarray(window_counts, dtype=np.int64)
        if len(counts) != len(shards):
            raise ValueError(f"{len(counts)} window counts for {len(shards)} shards.")
        self.shards, self.prepare, self.starts_of = shards, prepare, starts_of
        self.lookback, self.horizon, self.season_length = lookback, horizon, season_length
        self.batch_size, self.batch_multiple = int(batch_size), int(batch_multiple)
        self.shuffle, self.seed = shuffle, seed
        # Per shard: windows served (a batch-multiple remainder left out) and batches.
        self._served = counts - (counts % self.batch_size) % self.batch_multiple
        self._batches = -(-self._served // self.batch_size)
        total = int(self._batches.sum())
        if total == 0:
            raise ValueError("The shards hold no window of lookback + horizon points.")
        if steps_per_epoch is not None and not 1 <= steps_per_epoch <= total:
            raise ValueError(
                f"`steps_per_epoch` must be between 1 and the {total} batches of the shards. "
                f"Received: {steps_per_epoch!r}"
            )
        self._steps = steps_per_epoch or total
        self._epoch = int(initial_epoch)
        self._loaded = None  # (shard, prepared arrays, window starts in this epoch's order)
        self.shards_read = 0  # how many times a shard was read (one at a time)
        self._make_order()

    def _rng(self, *key):
        return np.random.default_rng(None if self.seed is None else (self.seed, self._epoch, *key))

    def _make_order(self):
        order = np.arange(len(self.shards))
        if self.shuffle:
            self._rng().shuffle(order)
        self._order = order
        # Batch index where each shard of this epoch's order begins.
        self._first = np.concatenate([[0], np.cumsum(self._batches[order])])
        self._loaded = None

    def __len__(self):
        return self._steps

    def _load(self, shard):
        panel = self.shards.read(int(shard))
        self.shards_read += 1
        values, scaled, phases = self.prepare(panel)
        starts = self.starts_of(panel)
        if len(starts) < self._served[shard]:
            raise ValueError(
                f"{self.shards.paths[shard]} yields {len(starts)} windows; its lengths promised "
                f"{self._served[shard]}."
            )
        if self.shuffle:
            self._rng(int(shard)).shuffle(starts)
        # Only this shard is held: the previous one is released here.
        self._loaded = (shard, values, scaled, phases, starts[: self._served[shard]])

    def __getitem__(self, index):
        if not 0 <= index < self._steps:
            raise IndexError(f"Batch {index} is past the last batch ({self._steps - 1}).")
        position = int(np.searchsorted(self._first, index, side="right")) - 1
        shard = self._order[position]
        if self._loaded is None or self._loaded[0] != shard:
            self._load(shard)
        _, values, scaled, phases, starts = self._loaded
        inside = index - self._first[position]
        batch = starts[inside * self.batch_size : (inside + 1) * self.batch_size]
        x, loc, scale = make_window_features(
            values, scaled, phases, batch, self.lookback, self.season_length
        )
        targets = values[batch[:, None] + self.lookback + np.arange(self.horizon)]
        y = ((targets - loc) / scale).astype("float32")
        return x, y[..., None]  # (batch, horizon, 1)

    def on_epoch_end(self):
        self._epoch += 1
        self._make_order()
