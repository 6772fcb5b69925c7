import json

import numpy as np
import pytest

from kseq.data import load_airpassengers
from kseq.errors import SeriesTooShortError
from kseq.transforms import (
    Difference,
    LogTransform,
    MinMaxScale,
    SeasonalAdjust,
    TransformPipeline,
)

PATTERN = np.array([3.0, -1.0, 2.0, 0.5, -4.0, 1.5, -0.5, 2.5, -2.0, 1.0, -3.0, 0.0])


def make_seasonal(num_steps=60, first_phase=0):
    """A linear trend plus `PATTERN` (sums to zero), the first value at `first_phase`."""
    t = np.arange(num_steps)
    return (10.0 + 0.3 * t + PATTERN[(first_phase + t) % 12])[:, None]


def test_indices_of_a_trend_plus_a_fixed_pattern_are_the_pattern():
    # The centred 2x12 moving average of a line plus a zero-sum pattern is the line itself.
    assert PATTERN.sum() == 0
    adjust = SeasonalAdjust(12).fit(make_seasonal())
    np.testing.assert_allclose(adjust.indices_[:, 0], PATTERN, atol=1e-12)
    np.testing.assert_allclose(adjust.transform(make_seasonal())[:, 0], 10.0 + 0.3 * np.arange(60))


def test_the_fitted_values_first_position_sets_the_phase():
    values = make_seasonal(first_phase=5)
    adjust = SeasonalAdjust(12).fit(values, position=5)
    np.testing.assert_allclose(adjust.indices_[:, 0], PATTERN, atol=1e-12)
    # Fitted from position 0, the same values give the pattern shifted by five phases.
    shifted = SeasonalAdjust(12).fit(values)
    np.testing.assert_allclose(shifted.indices_[:, 0], np.roll(PATTERN, -5), atol=1e-12)


def test_recent_seasons_alone_give_the_recent_pattern():
    changed = np.roll(PATTERN, 3) * 2
    t = np.arange(96)
    values = 10.0 + 0.3 * t + np.where(t < 36, PATTERN[t % 12], changed[t % 12])
    # Detrended values exist for t in [6, 90); the last 24 read pattern-2 values only.
    recent = SeasonalAdjust(12, seasons=2).fit(values)
    np.testing.assert_allclose(recent.indices_[:, 0], changed, atol=1e-12)
    every = SeasonalAdjust(12).fit(values)
    assert np.abs(every.indices_[:, 0] - changed).max() > 1
    # More seasons than there are: all of them.
    np.testing.assert_allclose(
        SeasonalAdjust(12, seasons=50).fit(values).indices_, every.indices_, atol=1e-12
    )


def test_odd_season_uses_the_plain_centred_average():
    pattern = np.array([2.0, -3.0, 0.5, 1.5, -1.0])
    t = np.arange(40)
    values = 4.0 - 0.2 * t + pattern[t % 5]
    adjust = SeasonalAdjust(5).fit(values)
    np.testing.assert_allclose(adjust.indices_[:, 0], pattern, atol=1e-12)


def test_indices_match_a_decomposition_written_out_on_airpassengers():
    logs = np.log(load_airpassengers().to_numpy()[:120])
    adjust = SeasonalAdjust(12).fit(logs)
    # Written out with loops: 2x12 centred average, mean per month, centred.
    sums, counts = np.zeros(12), np.zeros(12)
    for t in range(6, 114):
        window = logs[t - 6 : t + 7].copy()
        window[0] *= 0.5
        window[-1] *= 0.5
        sums[t % 12] += logs[t] - window.sum() / 12
        counts[t % 12] += 1
    expected = sums / counts
    np.testing.assert_allclose(adjust.indices_[:, 0], expected - expected.mean(), atol=1e-12)


def test_transform_of_any_slice_or_batch_reads_its_position():
    values = np.log(load_airpassengers().to_numpy())[:, None]
    adjust = SeasonalAdjust(12).fit(values[:120])
    whole = adjust.transform(values)
    np.testing.assert_allclose(adjust.transform(values[37:], position=37), whole[37:])
    starts = np.array([3, 50, 101])
    batch = np.stack([values[s : s + 30] for s in starts])
    np.testing.assert_allclose(
        adjust.transform(batch, position=starts), np.stack([whole[s : s + 30] for s in starts])
    )
    np.testing.assert_allclose(adjust.inverse_transform(whole[37:], position=37), values[37:])
    with pytest.raises(ValueError, match="one integer for 2-D"):
        adjust.transform(values, position=starts)


def test_pipeline_with_a_first_difference_inverts_forecasts_at_their_position():
    values = load_airpassengers().to_numpy()[:, None]
    pipeline = TransformPipeline(
        [LogTransform(), SeasonalAdjust(12), Difference(1), MinMaxScale((-1, 1))]
    )
    pipeline.fit(values[:120])
    z = pipeline.transform(values)  # z[i] belongs to values[i + 1]
    np.testing.assert_allclose(pipeline.transform(values[40:], position=40), z[40:])
    # "Forecasts" equal to the transformed truth invert to the truth, one origin or many.
    np.testing.assert_allclose(
        pipeline.inverse_transform(z[119:], context=values[:120], position=120), values[120:]
    )
    origins = np.array([30, 77, 120])
    contexts = np.stack([values[t - 1 : t] for t in origins])
    futures = np.stack([z[t - 1 : t + 5] for t in origins])
    np.testing.assert_allclose(
        pipeline.inverse_transform(futures, context=contexts, position=origins),
        np.stack([values[t : t + 6] for t in origins]),
    )
    # The same forecasts read at the wrong phase come back in the wrong months.
    wrong = pipeline.inverse_transform(z[119:], context=values[:120], position=121)
    assert np.abs(wrong - values[120:]).max() > 10


def test_state_round_trips_through_json():
    values = load_airpassengers().to_numpy()[:, None]
    pipeline = TransformPipeline([LogTransform(), SeasonalAdjust(12), Difference(1)])
    pipeline.fit(values[:100])
    restored = TransformPipeline.from_state(json.loads(json.dumps(pipeline.get_state())))
    np.testing.assert_array_equal(
        restored.transform(values, position=0), pipeline.transform(values, position=0)
    )
    assert restored.uses_position and not TransformPipeline([LogTransform()]).uses_position


def test_errors():
    with pytest.raises(SeriesTooShortError, match="at least 24 steps"):
        SeasonalAdjust(12).fit(np.arange(23.0))
    for bad in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match="`season_length` must be an integer >= 2"):
            SeasonalAdjust(bad).fit(np.arange(60.0))
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="`seasons` must be a positive integer or None"):
            SeasonalAdjust(12, seasons=bad).fit(np.arange(60.0))
