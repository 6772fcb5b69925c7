import math

import keras
import numpy as np
import pytest

from kseq.losses import MixtureNLL, PinballLoss


def test_pinball_values():
    y_true = np.array([[[1.0]]], "float32")  # (1, 1, 1)
    y_pred = np.array([[[[0.0, 1.0, 3.0]]]], "float32")  # errors +1, 0, -2
    loss = PinballLoss([0.1, 0.5, 0.9])(y_true, y_pred)
    # 0.1*1, 0, (0.9-1)*(-2) = 0.2 -> mean 0.1
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss), 0.1, rtol=1e-6)


def test_pinball_minimiser_is_the_quantile():
    y = np.random.default_rng(0).normal(size=(4000, 1, 1)).astype("float32")
    candidates = np.linspace(-2, 2, 81)
    losses = [
        float(
            keras.ops.convert_to_numpy(
                PinballLoss([0.9])(y, np.full((4000, 1, 1, 1), c, "float32"))
            )
        )
        for c in candidates
    ]
    assert abs(candidates[int(np.argmin(losses))] - np.quantile(y, 0.9)) < 0.06


def test_mixture_nll_of_one_component_is_the_gaussian_nll():
    y_true = np.array([[[0.5]], [[-1.0]]], "float32")
    params = np.array([[[[0.0, 0.0, 2.0]]], [[[3.0, 1.0, 0.5]]]], "float32")  # logit, mean, scale
    expected = [0.5 * (0.5 / 2.0) ** 2 + math.log(2.0), 0.5 * (2.0 / 0.5) ** 2 + math.log(0.5)]
    expected = np.mean(expected) + 0.5 * math.log(2 * math.pi)
    loss = MixtureNLL(1)(y_true, params)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss), expected, rtol=1e-5)


def test_mixture_nll_two_components():
    # Equal weights, means -1 and 1, scale 1, y = 1.
    params = np.array([[[[0.0, 0.0, -1.0, 1.0, 1.0, 1.0]]]], "float32")
    loss = MixtureNLL(2)(np.array([[[1.0]]], "float32"), params)
    density = 0.5 * (math.exp(-2.0) + 1.0) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss), -math.log(density), rtol=1e-5)


@pytest.mark.parametrize("loss", [PinballLoss([0.2, 0.8]), MixtureNLL(3)])
def test_loss_config_round_trip(loss):
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(clone) is type(loss) and clone.get_config() == loss.get_config()


def test_invalid_arguments():
    with pytest.raises(ValueError, match=r"Received: \[0.0\]"):
        PinballLoss([0.0])
    with pytest.raises(ValueError, match="Received: num_components=-1"):
        MixtureNLL(-1)
