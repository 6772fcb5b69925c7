"""The options of one training run, passed to `Forecaster.fit` as one value (no Keras here)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingConfig:
    """How `Forecaster.fit` trains: epochs, batches and the window order.

    Args:
        epochs: passes over the training windows (or `steps_per_epoch` batches each).
        batch_size: windows per batch.
        shuffle: visit the windows in a new seeded order each epoch.
        random_windows: draw each batch's windows uniformly with replacement instead.
        steps_per_epoch: batches per epoch; one pass over the windows by default.
        seed: seed of the window order.
        verbose: Keras progress-bar setting (``"auto"``, 0, 1, 2).
        initial_epoch: epochs already done (a resumed run): training runs epochs
            ``initial_epoch .. epochs - 1``, in the window order those epochs have.
        batch_multiple: every batch holds a multiple of this many windows (data-parallel
            training on JAX shards each batch evenly over the devices): an epoch's last partial
            batch leaves out its remainder (at most ``batch_multiple - 1`` windows, others
            each epoch when shuffled).
        process_index, process_count: this worker of a data-parallel job on several hosts;
            a sharded panel (`PanelShards`) gives each worker its own shards.
    """

    epochs: int = 100
    batch_size: int = 32
    shuffle: bool = True
    random_windows: bool = False
    steps_per_epoch: int | None = None
    seed: int | None = None
    verbose: str | int = "auto"
    initial_epoch: int = 0
    batch_multiple: int = 1
    process_index: int = 0
    process_count: int = 1

    def __post_init__(self):
        for name in ("epochs", "batch_size", "batch_multiple"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{name}` must be a positive integer. Received: {value!r}")
        start = self.initial_epoch
        if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= self.epochs:
            raise ValueError(
                f"`initial_epoch` must be between 0 and `epochs`={self.epochs}. Received: {start!r}"
            )
        steps = self.steps_per_epoch
        if steps is not None and (
            isinstance(steps, bool) or not isinstance(steps, int) or steps < 1
        ):
            raise ValueError(f"`steps_per_epoch` must be None or >= 1. Received: {steps!r}")
        if not 0 <= self.process_index < self.process_count:
            raise ValueError(
                f"`process_index` must be in [0, `process_count`={self.process_count}). "
                f"Received: {self.process_index!r}"
            )
        if self.batch_size % self.batch_multiple:
            raise ValueError(
                f"`batch_size`={self.batch_size} must be a multiple of "
                f"`batch_multiple`={self.batch_multiple} (one share per device)."
            )

    @classmethod
    def from_recipe(cls, training, windows, *, seed, epochs=None, verbose="auto", batch_multiple=1):
        """The config of a recipe's ``[training]`` and ``[windows]`` sections."""
        return cls(
            batch_multiple=batch_multiple,
            epochs=training.epochs if epochs is None else epochs,
            batch_size=training.batch_size,
            shuffle=training.shuffle,
            random_windows=windows.random_windows,
            steps_per_epoch=training.steps_per_epoch,
            seed=seed,
            verbose=verbose,
        )
