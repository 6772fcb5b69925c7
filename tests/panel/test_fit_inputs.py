"""What `model.fit` receives for panel window datasets: on TensorFlow a native pipeline of the
same batches in the same order (`make_fit_inputs`), elsewhere the `PyDataset` itself."""

import numpy as np

from kseq._keras import keras
from kseq.data.panel_window_dataset import PanelWindowDataset
from kseq.data.series_covariates import SeriesCovariates
from kseq.data.window_starts import WindowStarts
from kseq.runtime import backend_dataset, make_fit_inputs

LOOKBACK, HORIZON = 6, 3

# Three ragged series whose values encode the series and the step: 1000·(i + 1) + t.
LENGTHS = (40, 25, 33)
OFFSETS = np.concatenate([[0], np.cumsum(LENGTHS)])
VALUES = np.concatenate([1000.0 * (i + 1) + np.arange(n) for i, n in enumerate(LENGTHS)])


def make_dataset(covariates=None, dataset_class=PanelWindowDataset, **options):
    starts = WindowStarts.of(OFFSETS, OFFSETS[1:], LOOKBACK + HORIZON)
    return dataset_class(
        VALUES.astype("float32"),
        np.zeros(len(VALUES), dtype=bool),  # windows minus their last value, not scaled
        None,
        starts,
        lookback=LOOKBACK,
        horizon=HORIZON,
        batch_size=16,
        offsets=OFFSETS,
        seed=4,
        covariates=covariates,
        **options,
    )


def served_batches(fit_input):
    """One epoch of what fit receives, as numpy structures."""
    if isinstance(fit_input, keras.utils.PyDataset):
        return [fit_input[i] for i in range(len(fit_input))]
    return list(fit_input.as_numpy_iterator())


def test_the_fit_input_serves_the_dataset_s_batches_epoch_after_epoch():
    # Static values and id codes: inputs are a {"history", "series"} dict.
    covariates = SeriesCovariates(
        OFFSETS,
        codes=np.array([2, 0, 1]),
        static=np.array([[0.5], [-1.0], [2.0]], dtype="float32"),
    )
    for sampling in ("windows", "series"):
        dataset = make_dataset(covariates, sampling=sampling)
        reference = make_dataset(covariates, sampling=sampling)
        fit_input = backend_dataset(dataset)
        for _ in range(2):
            served = served_batches(fit_input)
            assert len(served) == len(reference)
            for i, (x, y) in enumerate(served):
                want_x, want_y = reference[i]
                assert sorted(x) == ["history", "series"]
                np.testing.assert_array_equal(x["history"], want_x["history"])
                np.testing.assert_array_equal(x["series"], want_x["series"])
                np.testing.assert_array_equal(y, want_y)
                assert x["history"].dtype == np.float32 and x["series"].dtype == np.int32
            # Independently of the dataset: each window's step-to-step differences are 1
            # (never across a series boundary) and its targets continue the same steps.
            x, y = served[0]
            history = x["history"][..., 0]
            np.testing.assert_array_equal(np.diff(history, axis=1), 1.0)
            np.testing.assert_array_equal(y[..., 0], history[:, -1:] + 1 + np.arange(HORIZON))
            dataset.on_epoch_end()
            reference.on_epoch_end()


class RecordingDataset(PanelWindowDataset):
    """Records (epoch, batch index) of every batch made."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.made = []

    def __getitem__(self, index):
        self.made.append((self._epoch, int(index)))
        return super().__getitem__(index)


def test_every_batch_of_an_epoch_is_made_from_that_epoch_s_order():
    # Through model.fit: a native pipeline that made the next epoch's first batches ahead of
    # `on_epoch_end` would serve them in the previous epoch's order.
    dataset = make_dataset(dataset_class=RecordingDataset)
    inputs = make_fit_inputs(dataset)
    model = keras.Sequential(
        [
            keras.Input((LOOKBACK, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(HORIZON),
            keras.layers.Reshape((HORIZON, 1)),
        ]
    )
    model.compile("sgd", "mae")
    epochs, steps = 3, len(dataset)
    history = model.fit(
        inputs.data, epochs=epochs, shuffle=False, verbose=0, callbacks=list(inputs.callbacks)
    )
    assert len(history.history["loss"]) == epochs
    # (Backends may make a batch first to learn the inputs' structure.)
    made = np.array(dataset.made[-epochs * steps :]).reshape(epochs, steps, 2)
    np.testing.assert_array_equal(made[..., 1], np.tile(np.arange(steps), (epochs, 1)))
    served_epochs = made[..., 0]
    assert (served_epochs == served_epochs[:, :1]).all()  # one order per epoch
    np.testing.assert_array_equal(np.diff(served_epochs[:, 0]), 1)  # a new one each epoch


def test_the_batch_axis_is_static_only_where_every_batch_is_full():
    # 32 + 17 + 25 = 74 windows: one pass in batches of 16 ends with a partial batch; a set
    # steps_per_epoch or series sampling (steps x batch_size draws) fill every batch.
    for options, batch_size in (
        ({}, None),
        ({"steps_per_epoch": 7}, 16),
        ({"sampling": "series"}, 16),
        ({"shuffle": False}, None),
    ):
        dataset = make_dataset(**options)
        sizes = {len(dataset[i][1]) for i in range(len(dataset))}
        assert (sizes == {16}) == (batch_size is not None), options
        assert dataset.full_batch_size == batch_size, options
        fit_input = backend_dataset(dataset)
        if hasattr(fit_input, "element_spec"):  # a tf.data pipeline (TensorFlow)
            x_spec, y_spec = fit_input.element_spec
            assert x_spec.shape[0] == y_spec.shape[0] == batch_size, options
            served = served_batches(fit_input)
            assert [len(y) for _, y in served] == [len(dataset[i][1]) for i in range(len(dataset))]
