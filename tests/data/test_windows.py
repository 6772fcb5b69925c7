import keras
import numpy as np
import pytest

from kseq.data import WindowDataset, make_windows
from kseq.errors import SeriesTooShortError
from kseq.runtime import backend_dataset, make_fit_inputs


def test_one_step_windows_on_arange():
    x, y = make_windows(np.arange(10), lookback=3)
    assert x.shape == (7, 3, 1) and y.shape == (7, 1, 1)
    np.testing.assert_array_equal(x[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(y[:, 0, 0], np.arange(3, 10))
    # Every window's target is the step right after its last input.
    np.testing.assert_array_equal(y[:, 0, 0], x[:, -1, 0] + 1)


def test_multi_step_windows_and_stride():
    x, y = make_windows(np.arange(20), lookback=4, horizon=3, stride=2)
    assert x.shape == (7, 4, 1) and y.shape == (7, 3, 1)
    np.testing.assert_array_equal(x[1, :, 0], [2, 3, 4, 5])
    np.testing.assert_array_equal(y[1, :, 0], [6, 7, 8])
    np.testing.assert_array_equal(y[-1, :, 0], [16, 17, 18])


def test_sequence_targets_align_with_inputs():
    series = np.arange(10)
    x, y = make_windows(series, series * 10, lookback=4, sequence=True)
    assert x.shape == y.shape == (7, 4, 1)
    np.testing.assert_array_equal(y[2, :, 0], [20, 30, 40, 50])
    np.testing.assert_array_equal(y, x * 10)


def test_multivariate_inputs_separate_targets():
    values = np.stack([np.arange(12), 100 + np.arange(12)], axis=1)
    x, y = make_windows(values, values[:, :1], lookback=5, horizon=2)
    assert x.shape == (6, 5, 2) and y.shape == (6, 2, 1)
    np.testing.assert_array_equal(x[0, :, 1], [100, 101, 102, 103, 104])
    np.testing.assert_array_equal(y[0, :, 0], [5, 6])


def test_windows_are_views_not_copies():
    series = np.arange(1_000_000, dtype="float64")
    x, y = make_windows(series, lookback=60, horizon=5)
    assert np.shares_memory(x, series) and np.shares_memory(y, series)
    assert x.base is not None and x.nbytes > series.nbytes * 50  # 60 steps per window, no copy


def test_too_short_and_bad_arguments():
    with pytest.raises(SeriesTooShortError, match="5 points but one window needs 7"):
        make_windows(np.arange(5), lookback=4, horizon=3)
    with pytest.raises(ValueError, match="`lookback` must be a positive integer. Received: 0"):
        make_windows(np.arange(5), lookback=0)
    with pytest.raises(ValueError, match="same length"):
        make_windows(np.arange(5), np.arange(4), lookback=2)


def test_window_dataset_batches_every_window_once_per_epoch():
    from kseq.data import WindowDataset

    x, y = make_windows(np.arange(100.0), lookback=5, horizon=2)
    data = WindowDataset(x, y, batch_size=16, shuffle=True, seed=3)
    assert len(data) == 6
    first = np.concatenate([data[i][1][:, 0, 0] for i in range(len(data))])
    np.testing.assert_array_equal(np.sort(first), np.arange(5, 99))  # each window once
    batch_x, batch_y = data[0]
    first_batch = batch_x.copy()
    assert batch_x.dtype == np.float32 and batch_x.shape == (16, 5, 1)
    np.testing.assert_array_equal(batch_y[:, 0, 0], batch_x[:, -1, 0] + 1)  # still aligned
    data.on_epoch_end()
    second = np.concatenate([data[i][1][:, 0, 0] for i in range(len(data))])
    assert not np.array_equal(first, second) and np.array_equal(np.sort(second), np.sort(first))
    again = WindowDataset(x, y, batch_size=16, shuffle=True, seed=3)
    np.testing.assert_array_equal(again[0][0], first_batch)  # seeded: reproducible


def test_window_dataset_random_windows_and_steps():
    from kseq.data import WindowDataset

    x, y = make_windows(np.arange(50.0), lookback=4)
    data = WindowDataset(x, y, batch_size=8, random_windows=True, steps_per_epoch=3, seed=0)
    assert len(data) == 3
    batch_x, batch_y = data[2]
    assert batch_x.shape == (8, 4, 1)
    np.testing.assert_array_equal(batch_y[:, 0, 0], batch_x[:, -1, 0] + 1)
    sequential = WindowDataset(x, y, batch_size=8)
    np.testing.assert_array_equal(sequential[0][0][:, 0, 0], np.arange(8))
    assert sequential[len(sequential) - 1][0].shape[0] == 46 - 5 * 8


def _batches(fit_input, dataset=None):
    # One epoch of a tf.data pipeline (TensorFlow) or of the PyDataset itself (other
    # backends); then the next epoch's order is drawn, as `Forecaster.fit` does.
    if hasattr(fit_input, "as_numpy_iterator"):
        batches = list(fit_input.as_numpy_iterator())
    else:
        batches = [fit_input[i] for i in range(len(fit_input))]
    (dataset or fit_input).on_epoch_end()
    return batches


def test_backend_dataset_serves_the_same_windows_in_order():
    z = np.arange(60.0).reshape(30, 2)
    x, y = make_windows(z, z[:, :1], lookback=4, horizon=2)
    reference = WindowDataset(x, y, batch_size=5)
    dataset = WindowDataset(x, y, batch_size=5)
    served = _batches(backend_dataset(dataset), dataset)
    assert len(served) == len(reference) == 5
    for (bx, by), i in zip(served, range(len(reference)), strict=True):
        np.testing.assert_array_equal(bx, reference[i][0])
        np.testing.assert_array_equal(by, reference[i][1])
        assert bx.dtype == np.float32


def test_backend_dataset_shuffles_every_window_once_per_epoch():
    x, y = make_windows(np.arange(40.0), lookback=3, horizon=1)
    dataset = WindowDataset(x, y, batch_size=8, shuffle=True, seed=5)
    fit_input = backend_dataset(dataset)
    epochs = [
        np.concatenate([b[0][:, 0, 0] for b in _batches(fit_input, dataset)]) for _ in range(2)
    ]
    for starts in epochs:
        # Every window once, each still aligned: target = first input + lookback.
        np.testing.assert_array_equal(np.sort(starts), np.arange(len(x)))
    assert not np.array_equal(epochs[0], epochs[1])
    for bx, by in _batches(fit_input, dataset):
        np.testing.assert_array_equal(by[:, 0, 0], bx[:, 0, 0] + 3)
    # The order of epoch e depends on (seed, e) alone: on every backend, the dataset's own
    # order, and in a dataset that starts at epoch 1 (a resumed fit).
    fresh = WindowDataset(x, y, batch_size=8, shuffle=True, seed=5)
    np.testing.assert_array_equal(epochs[0], fresh.order)  # window i starts at value i
    resumed = WindowDataset(x, y, batch_size=8, shuffle=True, seed=5, initial_epoch=1)
    served = np.concatenate([b[0][:, 0, 0] for b in _batches(backend_dataset(resumed), resumed)])
    np.testing.assert_array_equal(served, epochs[1])


def test_backend_dataset_random_windows_respect_steps():
    x, y = make_windows(np.arange(40.0), lookback=3, horizon=2)
    dataset = WindowDataset(x, y, batch_size=4, random_windows=True, steps_per_epoch=6, seed=1)
    batches = _batches(backend_dataset(dataset), dataset)
    assert len(batches) == 6
    for bx, by in batches:
        np.testing.assert_array_equal(bx[:, :, 0], bx[:, :1, 0] + np.arange(3))
        np.testing.assert_array_equal(by[:, :, 0], bx[:, :1, 0] + 3 + np.arange(2))


def test_backend_dataset_serves_arrays_that_are_not_views_batch_by_batch():
    # Copies, not sliding views: nothing to gather from; served as the dataset's batches.
    x, y = make_windows(np.arange(20.0), lookback=3)
    dataset = WindowDataset(np.ascontiguousarray(x), y, batch_size=4, shuffle=True, seed=2)
    reference = WindowDataset(np.ascontiguousarray(x), y, batch_size=4, shuffle=True, seed=2)
    fit_input = backend_dataset(dataset)
    for _ in range(2):
        served = _batches(fit_input, dataset)
        assert len(served) == len(reference) == 5
        for (bx, by), i in zip(served, range(len(reference)), strict=True):
            np.testing.assert_array_equal(bx, reference[i][0])
            np.testing.assert_array_equal(by, reference[i][1])
            np.testing.assert_array_equal(by[:, 0, 0], bx[:, -1, 0] + 1)
        reference.on_epoch_end()


def test_backend_dataset_batch_axis_is_static_only_where_every_batch_is_full():
    # 37 windows: one pass in batches of 8 ends with a partial batch; batches of 37, a set
    # steps_per_epoch or random windows (steps x batch_size draws) fill every batch.
    x, y = make_windows(np.arange(40.0), lookback=3)
    for options, batch_size in (
        ({"batch_size": 8}, None),
        ({"batch_size": 8, "shuffle": True, "seed": 0}, None),
        ({"batch_size": 37}, 37),
        ({"batch_size": 8, "shuffle": True, "seed": 0, "steps_per_epoch": 9}, 8),
        ({"batch_size": 8, "random_windows": True, "seed": 0}, 8),
    ):
        dataset = WindowDataset(x, y, **options)
        sizes = [len(dataset[i][1]) for i in range(len(dataset))]
        assert (set(sizes) == {options["batch_size"]}) == (batch_size is not None), options
        assert dataset.full_batch_size == batch_size, options
        fit_input = backend_dataset(dataset)
        if hasattr(fit_input, "element_spec"):  # a tf.data pipeline (TensorFlow)
            x_spec, y_spec = fit_input.element_spec
            assert x_spec.shape[0] == y_spec.shape[0] == batch_size, options
            assert [len(by) for _, by in _batches(fit_input, dataset)] == sizes, options


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="JAX's device-side windows")
def test_jax_accelerator_windows_serve_the_same_batches(monkeypatch):
    # On a GPU, JAX gathers the batches on the device from the series; here the CPU stands in
    # for it, and the tests above run again against that pipeline.
    from kseq.runtime import jax_kernels

    monkeypatch.setattr(jax_kernels, "_on_accelerator", lambda: True)
    x, y = make_windows(np.arange(40.0) / 40, lookback=3)
    assert type(backend_dataset(WindowDataset(x, y, 8))).__name__ == "_DeviceWindows"
    test_backend_dataset_serves_the_same_windows_in_order()
    test_backend_dataset_shuffles_every_window_once_per_epoch()
    test_backend_dataset_random_windows_respect_steps()
    test_backend_dataset_serves_arrays_that_are_not_views_batch_by_batch()

    def fit(dataset):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((3, 1)),
                keras.layers.Flatten(),
                keras.layers.Dense(1),
                keras.layers.Reshape((1, 1)),
            ]
        )
        model.compile(keras.optimizers.SGD(0.01), "mse")
        inputs = make_fit_inputs(dataset)
        model.fit(inputs.data, epochs=3, shuffle=False, verbose=0, callbacks=list(inputs.callbacks))
        return inputs.data, model.get_weights()

    def shuffled():
        return WindowDataset(x, y, batch_size=8, shuffle=True, seed=4)

    served, on_device = fit(shuffled())
    assert type(served).__name__ == "_DeviceWindows"
    monkeypatch.setattr(jax_kernels, "_on_accelerator", lambda: False)
    served, on_host = fit(shuffled())
    assert isinstance(served, WindowDataset)
    for a, b in zip(on_device, on_host, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)  # same batches, same order, every epoch


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="an endless tf.data pipeline; elsewhere fit iterates the PyDataset itself",
)
def test_one_endless_pipeline_serves_each_epoch_in_its_own_order():
    # On TensorFlow fit gets one endless pipeline of every epoch (Keras then keeps one
    # iterator for the whole fit instead of making two per epoch): epoch e must still be
    # trained on the order of (seed, e), also in a fit resumed at a later epoch, and the
    # validation pipeline must give the same val_loss as scoring the validation windows.
    x, y = make_windows(np.arange(40.0) / 40, lookback=3)

    def model():
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((3, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
        m.add(keras.layers.Reshape((1, 1)))
        m.compile(keras.optimizers.SGD(0.05), "mse")
        return m

    for initial_epoch in (0, 2):
        dataset = WindowDataset(
            x, y, batch_size=8, shuffle=True, seed=4, initial_epoch=initial_epoch
        )
        validation = WindowDataset(x[:10], y[:10], batch_size=4)
        inputs = make_fit_inputs(dataset, validation)
        assert (inputs.steps_per_epoch, inputs.validation_steps) == (5, 3)
        assert not inputs.callbacks  # the pipeline draws each epoch's order itself
        fitted = model()
        history = fitted.fit(
            inputs.data,
            validation_data=inputs.validation_data,
            epochs=4,
            initial_epoch=initial_epoch,
            steps_per_epoch=inputs.steps_per_epoch,
            validation_steps=inputs.validation_steps,
            shuffle=False,
            verbose=0,
        )
        by_hand = model()
        val_loss = []
        for epoch in range(initial_epoch, 4):
            order = np.random.default_rng((4, epoch)).permutation(len(x))
            for i in range(0, len(order), 8):
                rows = order[i : i + 8]
                by_hand.train_on_batch(x[rows].astype("float32"), y[rows].astype("float32"))
            predicted = by_hand.predict(x[:10].astype("float32"), verbose=0)
            val_loss.append(float(np.mean((predicted - y[:10]) ** 2)))
        for got, want in zip(fitted.get_weights(), by_hand.get_weights(), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(history.history["val_loss"], val_loss, rtol=1e-5)


def test_fit_inputs_are_finite_where_a_call_would_cross_an_epoch():
    # Keras runs all steps_per_execution steps of a call while data lasts: with 5 batches an
    # epoch and 2 steps a call, an endless pipeline would train 6 steps in the first epoch.
    x, y = make_windows(np.arange(40.0) / 40, lookback=3)
    inputs = make_fit_inputs(WindowDataset(x, y, batch_size=8), steps_per_execution=2)
    assert inputs.steps_per_epoch is None
    if hasattr(inputs.data, "element_spec"):  # a finite tf.data pipeline, 5 batches a pass
        assert len(list(inputs.data.as_numpy_iterator())) == 5
