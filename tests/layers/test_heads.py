import keras
import numpy as np
import pytest

from kseq.layers import MixtureDensityHead, PointHead, QuantileHead, SequenceHead

FEATURES = np.random.default_rng(0).normal(size=(6, 5)).astype("float32")
SEQUENCE = np.random.default_rng(1).normal(size=(6, 9, 5)).astype("float32")


@pytest.mark.parametrize(
    "head, shape, params",
    [
        (PointHead(horizon=3, num_targets=2), (6, 3, 2), 5 * 6 + 6),
        (PointHead(horizon=1, dense_units=[4]), (6, 1, 1), (5 * 4 + 4) + (4 + 1)),
        (QuantileHead([0.1, 0.5, 0.9], horizon=2), (6, 2, 1, 3), 5 * 6 + 6),
        (MixtureDensityHead(num_components=2, horizon=2, num_targets=2), (6, 2, 2, 6), 5 * 24 + 24),
    ],
)
def test_head_shapes_and_weight_counts(head, shape, params):
    out = head(FEATURES)
    assert tuple(out.shape) == shape
    assert head.count_params() == params
    assert tuple(head.compute_output_shape(FEATURES.shape))[1:] == shape[1:]


def test_sequence_head_is_per_step():
    head = SequenceHead(num_targets=2, dense_units=[20])
    out = keras.ops.convert_to_numpy(head(SEQUENCE))
    assert out.shape == (6, 9, 2)
    assert head.count_params() == (5 * 20 + 20) + (20 * 2 + 2)
    # The same weights at every step: step 4 alone gives the same output.
    alone = keras.ops.convert_to_numpy(head(SEQUENCE[:, 4:5]))
    np.testing.assert_allclose(alone[:, 0], out[:, 4], rtol=1e-5, atol=1e-6)


def test_mixture_scales_are_positive():
    out = keras.ops.convert_to_numpy(
        MixtureDensityHead(num_components=3, min_scale=0.01)(FEATURES * 100)
    )
    assert (out[..., 6:] >= 0.01).all()


@pytest.mark.parametrize(
    "head",
    [
        PointHead(horizon=2, num_targets=3, dense_units=[4], dropout=0.1, seed=2),
        QuantileHead([0.05, 0.5, 0.95], horizon=4),
        MixtureDensityHead(num_components=3, min_scale=0.01),
        SequenceHead(num_targets=2, dense_units=[3, 2]),
    ],
)
def test_head_config_round_trip(head):
    clone = keras.layers.deserialize(keras.layers.serialize(head))
    assert type(clone) is type(head) and clone.get_config() == head.get_config()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: PointHead(horizon=0), "Received: horizon=0"),
        (lambda: PointHead(num_targets=-2), "Received: num_targets=-2"),
        (lambda: QuantileHead([0.5, 1.2]), r"Received: \[0.5, 1.2\]"),
        (lambda: QuantileHead([0.9, 0.1]), "increasing"),
        (lambda: MixtureDensityHead(num_components=0), "Received: num_components=0"),
        (lambda: SequenceHead(dense_units=[0]), r"Received: \[0\]"),
    ],
)
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_heads_own_their_loss_point_and_quantiles():
    from statistics import NormalDist

    from kseq.losses import MixtureNLL, PinballLoss

    point = PointHead()
    outputs = np.arange(6.0).reshape(2, 3, 1)
    assert point.default_loss() == "mse" and not point.is_probabilistic
    np.testing.assert_array_equal(point.point_forecast(outputs), outputs)
    with pytest.raises(ValueError, match="point forecasts only"):
        point.quantile_forecast(outputs, (0.1, 0.9))

    quantile = QuantileHead(quantiles=(0.1, 0.5, 0.9))
    levels = np.array([[[[1.0, 2.0, 3.0]]]])  # (batch, horizon, targets, levels)
    assert isinstance(quantile.default_loss(), PinballLoss)
    assert quantile.point_forecast(levels)[0, 0, 0] == 2.0
    np.testing.assert_array_equal(quantile.quantile_forecast(levels, (0.9, 0.1))[0, 0, 0], [3, 1])
    # Crossed levels are rearranged: the quantiles come out sorted, the median in the middle.
    crossed = np.array([[[[2.5, 1.0, 3.0]]]])
    assert quantile.point_forecast(crossed)[0, 0, 0] == 2.5
    np.testing.assert_array_equal(quantile.quantile_forecast(crossed, (0.1, 0.9))[0, 0, 0], [1, 3])

    # A mixture's outputs are [logits, means, scales]; the point is the mixture mean and the
    # quantiles invert its CDF. Checked against the standard library's normal distribution.
    mixture = MixtureDensityHead(num_components=2)
    assert isinstance(mixture.default_loss(), MixtureNLL)
    weights, means, scales = np.array([0.3, 0.7]), np.array([-1.0, 2.0]), np.array([0.5, 1.5])
    raw = np.concatenate([np.log(weights), means, scales])[None, None, None, :]
    assert mixture.point_forecast(raw)[0, 0, 0] == pytest.approx(weights @ means)
    components = [NormalDist(m, s) for m, s in zip(means, scales, strict=True)]
    found = mixture.quantile_forecast(raw, (0.1, 0.5, 0.95))[0, 0, 0]
    for level, value in zip((0.1, 0.5, 0.95), found, strict=True):
        cdf = sum(w * c.cdf(value) for w, c in zip(weights, components, strict=True))
        assert cdf == pytest.approx(level, abs=1e-9)
    single = MixtureDensityHead(num_components=1)
    one = np.array([0.0, 5.0, 2.0])[None, None, None, :]
    assert single.quantile_forecast(one, (0.9,))[0, 0, 0, 0] == pytest.approx(
        NormalDist(5.0, 2.0).inv_cdf(0.9), abs=1e-9
    )
