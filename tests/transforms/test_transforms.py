import json

import numpy as np
import pytest

from kseq.data import load_airpassengers
from kseq.errors import DataError, NotFittedError
from kseq.transforms import Difference, LogTransform, MinMaxScale, TransformPipeline


@pytest.fixture
def passengers():
    return load_airpassengers().to_numpy()[:, None]


def test_minmax_maps_training_range_and_inverts(passengers):
    scaler = MinMaxScale((-1, 1)).fit(passengers[:120])
    scaled = scaler.transform(passengers)
    assert scaled[:120].min() == -1 and scaled[:120].max() == 1
    assert scaled[120:].max() > 1  # the test period exceeds the training range
    np.testing.assert_allclose(scaler.inverse_transform(scaled), passengers)


def test_difference_values_and_inverse_on_arange():
    values = np.arange(20.0) ** 2
    diff = Difference(3).fit(values)
    out = diff.transform(values)
    assert out.shape == (17,)
    np.testing.assert_array_equal(out, values[3:] - values[:-3])
    np.testing.assert_allclose(diff.inverse_transform(out[5:], context=values[:8]), values[8:])


def test_difference_inverse_needs_context():
    diff = Difference(12).fit(np.arange(30.0))
    with pytest.raises(ValueError, match="needs `context`"):
        diff.inverse_transform(np.zeros(3))


def test_batched_inverse_uses_each_windows_context():
    values = np.cumsum(np.arange(1.0, 40.0))[:, None]
    diff = Difference(1).fit(values)
    z = diff.transform(values)
    # Batch of 2: forecasts after positions 10 and 20.
    levels = diff.inverse_transform(
        np.stack([z[9:12], z[19:22]]), context=np.stack([values[:10], values[10:20]])
    )
    np.testing.assert_allclose(levels[0], values[10:13])
    np.testing.assert_allclose(levels[1], values[20:23])


def test_pipeline_roundtrip_and_json_state(passengers):
    pipeline = TransformPipeline(
        [LogTransform(), Difference(12), Difference(1), MinMaxScale((-1, 1))]
    )
    z = pipeline.fit_transform(passengers[:120])
    assert z.shape == (107, 1) and pipeline.context_length == 13
    assert z.min() == -1 and z.max() == 1
    # Invert the last 57 steps from the 63 original values before them.
    np.testing.assert_allclose(
        pipeline.inverse_transform(z[50:], context=passengers[:63]), passengers[63:120]
    )
    restored = TransformPipeline.from_state(json.loads(json.dumps(pipeline.get_state())))
    np.testing.assert_array_equal(restored.transform(passengers), pipeline.transform(passengers))
    np.testing.assert_array_equal(
        restored.inverse_transform(z[-5:], context=passengers[:115]),
        pipeline.inverse_transform(z[-5:], context=passengers[:115]),
    )


def test_the_target_columns_alone_invert_with_the_whole_context(passengers):
    # A forecaster's targets come first, its features after: its forecasts hold the targets
    # only, and the context (the true history) every column.
    feature = np.linspace(1.0, 50.0, len(passengers)) ** 2
    passengers = np.ravel(passengers)
    both = np.stack([passengers, feature], axis=1)
    pipeline = TransformPipeline([LogTransform(), Difference(12), MinMaxScale((-1, 1))])
    z = pipeline.fit_transform(both[:120])
    target = pipeline.inverse_transform(z[60:, :1], context=both[:72])
    np.testing.assert_allclose(target[:, 0], passengers[72:120])
    # The same for a batch of windows, each with its own context.
    batch = pipeline.inverse_transform(
        np.stack([z[40:44, :1], z[90:94, :1]]), context=np.stack([both[40:52], both[90:102]])
    )
    np.testing.assert_allclose(batch[:, :, 0], [passengers[52:56], passengers[102:106]])


def test_log_needs_positive_values():
    with pytest.raises(
        DataError, match=r"values \+ offset > 0; 1 value\(s\) are not \(minimum 0 with offset=0\)"
    ):
        LogTransform().fit(np.array([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(LogTransform(offset=1).fit_transform(np.array([0.0])), [0.0])


def test_not_fitted():
    with pytest.raises(NotFittedError, match="MinMaxScale is not fitted"):
        MinMaxScale().transform(np.zeros(3))
