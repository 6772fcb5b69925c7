"""Panels: reading long data, its errors, and windows that never cross a series."""

import numpy as np
import pandas as pd
import pytest

from kseq.data import Panel, load_us_employment, read_panel
from kseq.data.panel_window_dataset import make_panel_starts
from kseq.errors import (
    ColumnNotFoundError,
    DataTypeError,
    MissingValueError,
    SeriesTooShortError,
    TimeIndexError,
)


def make_frame(lengths=(30, 20, 25), starts=("2000-01-01", "2001-03-01", "2000-07-01")):
    """Ragged monthly series whose values encode the series and the step: 1000·i + t."""
    parts = []
    for i, (n, start) in enumerate(zip(lengths, starts, strict=True)):
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range(start, periods=n, freq="MS"),
                    "y": 1000.0 * (i + 1) + np.arange(n),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_read_panel_stores_ragged_series_contiguously():
    frame = make_frame()
    shuffled = frame.sample(frac=1.0, random_state=0)  # rows in any order are sorted per series
    panel = read_panel(shuffled)
    assert list(panel.ids) == ["s0", "s1", "s2"] and panel.freq == "MS"
    assert panel.values.dtype == np.float32 and list(panel.lengths) == [30, 20, 25]
    for i in range(3):
        np.testing.assert_array_equal(
            panel.series(i), 1000.0 * (i + 1) + np.arange(panel.lengths[i])
        )
    assert panel.dates(1)[0] == pd.Timestamp("2001-03-01")
    back = panel.to_frame().sort_values(["unique_id", "ds"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, frame.astype({"y": "float64"}), check_dtype=False)
    # Calendar phases: month of year, the same for every series on the same date.
    phases = panel.phases(12)
    months = np.concatenate([panel.dates(i).month - 1 for i in range(3)])
    np.testing.assert_array_equal(phases, months)


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (lambda f: f.drop(index=5), TimeIndexError, r"series 's0' has a gap .* at 2000-07-01"),
        (
            lambda f: pd.concat([f, f.iloc[[40]]]),
            TimeIndexError,
            r"series 's1' has duplicate dates \(2002-01-01 in data rows 40, 75, counted from 0\)",
        ),
        (lambda f: f.assign(y=f["y"].where(f.index != 33)), MissingValueError, r"series 's1'.*NaN"),
        (
            lambda f: f.assign(y=f["y"].astype(object).where(f.index != 60, "n/a")),
            DataTypeError,
            r"non-numeric values in series 's2'",
        ),
    ],
)
def test_bad_input_names_the_series(edit, error, message):
    with pytest.raises(error, match=message):
        read_panel(edit(make_frame()))


def test_short_series_are_an_error_or_skipped_and_listed():
    with pytest.raises(SeriesTooShortError, match=r"1 series have fewer than 22 points: s1"):
        read_panel(make_frame(), min_length=22)
    panel = read_panel(make_frame(), min_length=22, on_short="skip")
    assert list(panel.ids) == ["s0", "s2"] and list(panel.skipped) == ["s1"]


def test_windows_never_cross_a_series_boundary(monkeypatch):
    import kseq.data.panel_window_dataset

    monkeypatch.setattr(kseq.data.panel_window_dataset, "_CHUNK", 5)  # chunks that cut series
    panel = read_panel(make_frame())
    window = 7
    starts = make_panel_starts(panel.offsets, panel.offsets[1:], window)
    assert len(starts) == sum(n - window + 1 for n in panel.lengths)
    windows = panel.values[starts[:, None] + np.arange(window)]
    # Inside one series values step by exactly 1; across a boundary they jump by ~1000.
    np.testing.assert_array_equal(np.diff(windows, axis=1), 1.0)
    assert len(np.unique(windows // 1000, axis=0)) == 3
    # Cut ends (a training part): no window reaches past them.
    ends = panel.offsets[1:] - 5
    cut = make_panel_starts(panel.offsets, ends, window)
    series = np.searchsorted(panel.offsets, cut, side="right") - 1
    assert (cut + window <= ends[series]).all() and len(cut) == len(starts) - 15


@pytest.mark.parametrize("shuffled", [False, True])
def test_series_sampling_draws_each_series_alike_and_stays_inside_it(shuffled):
    # Series of 30, 20 and 25 points give 24, 14 and 19 windows of 7: windows sampling would
    # favour s0, series sampling draws each series a third of the time.
    from kseq.data.panel_window_dataset import PanelWindowDataset

    panel = read_panel(make_frame())
    starts = make_panel_starts(panel.offsets, panel.offsets[1:], 7)
    if shuffled:  # starts in any order: each draw still lands inside one series
        starts = np.random.default_rng(0).permutation(starts)
    data = PanelWindowDataset(
        panel.values,
        np.zeros(len(panel.values), dtype=bool),
        None,
        starts,
        lookback=4,
        horizon=3,
        batch_size=300,
        sampling="series",
        offsets=panel.offsets,
        steps_per_epoch=10,
        seed=0,
    )
    drawn = data.starts[data.order]
    windows = panel.values[drawn[:, None] + np.arange(7)]
    np.testing.assert_array_equal(np.diff(windows, axis=1), 1.0)  # never across series
    series = np.searchsorted(panel.offsets, drawn, side="right") - 1
    share = np.bincount(series, minlength=3) / len(series)
    # 3,000 draws: a share's standard deviation is under 0.009.
    np.testing.assert_allclose(share, 1 / 3, atol=0.04)
    # Every window of a series can be drawn (here: each one of s1's 14).
    assert len(np.unique(drawn[series == 1])) == 14
    with pytest.raises(ValueError, match="offsets"):
        PanelWindowDataset(
            panel.values, None, None, starts, lookback=4, horizon=3, sampling="series"
        )


def test_phases_are_the_month_of_each_date_in_one_byte(monkeypatch):
    import kseq.data.panel

    monkeypatch.setattr(kseq.data.panel, "_PHASE_CHUNK", 7)  # chunks that cut series
    panel = read_panel(make_frame())
    phases = panel.phases(12)
    months = np.concatenate([panel.dates(i).month - 1 for i in range(len(panel))])
    assert phases.dtype == np.uint8
    np.testing.assert_array_equal(phases, months)


def test_bundled_us_employment_matches_its_provenance():
    panel = load_us_employment()
    assert isinstance(panel, Panel) and len(panel) == 148 and len(panel.values) == 72339
    assert panel.lengths.min() == 225 and panel.lengths.max() == 969
    assert panel.values.sum(dtype="float64") == pytest.approx(445_856_302.5, rel=1e-7)
    ends = panel.end_dates().value_counts()
    assert ends[pd.Timestamp("2019-09-01")] == 147 and ends[pd.Timestamp("2017-12-01")] == 1


def test_global_forecaster_predicts_every_series_in_original_units_and_round_trips(tmp_path):
    import keras

    from kseq.global_forecaster import GlobalForecaster
    from kseq.models import build_forecaster
    from kseq.training_config import TrainingConfig

    panel = read_panel(make_frame())
    model = build_forecaster(6, 3, horizon=4, units=[4], seed=0)
    forecaster = GlobalForecaster(model, lookback=6, season_length=12)
    history = forecaster.fit(
        panel, validation=4, training=TrainingConfig(epochs=2, batch_size=8, seed=0, verbose=0)
    )
    assert len(history.history["val_loss"]) == 2
    assert forecaster.log_ids_ == {"s0", "s1", "s2"}  # all positive: log scale
    frame = forecaster.predict(panel)
    assert list(frame.columns) == ["unique_id", "ds", "kseq"] and len(frame) == 3 * 4
    # Dates continue each series monthly from its own end.
    first = frame.groupby("unique_id")["ds"].first()
    for i, sid in enumerate(panel.ids):
        assert first[sid] == panel.dates(i)[-1] + pd.DateOffset(months=1)
    # Relative to each series' last value (levels 1000-3000 here), forecasts stay in its units.
    last = {sid: panel.series(i)[-1] for i, sid in enumerate(panel.ids)}
    ratio = frame["kseq"] / frame["unique_id"].map(last)
    assert ratio.between(0.5, 2.0).all()
    forecaster.save(tmp_path / "global")
    loaded = GlobalForecaster.load(tmp_path / "global")
    np.testing.assert_allclose(loaded.predict(panel)["kseq"], frame["kseq"], rtol=1e-6)
    keras.backend.clear_session()


def test_frequencies_are_checked_across_and_within_series():
    daily = pd.DataFrame(
        {
            "unique_id": ["a"] * 30 + ["b"] * 30,
            "ds": list(pd.date_range("2020-01-01", periods=30, freq="D"))
            # Same frequency, another time of day: off the first series' grid, still regular.
            + list(pd.date_range("2020-01-05 12:00", periods=30, freq="D")),
            "y": np.arange(60.0),
        }
    )
    panel = read_panel(daily)
    assert panel.freq == "D" and list(panel.lengths) == [30, 30]
    # A gap long after the dates that the frequency is inferred from is still found.
    with pytest.raises(TimeIndexError, match=r"series 'b' has a gap .* at 2020-01-26"):
        read_panel(daily.drop(index=50))
    quarterly = pd.DataFrame(
        {
            "unique_id": ["q"] * 8,
            "ds": pd.date_range("2020-01-01", periods=8, freq="QS"),
            "y": np.arange(8.0),
        }
    )
    with pytest.raises(TimeIndexError, match="different frequencies"):
        read_panel(pd.concat([make_frame(), quarterly]))


def test_a_few_batches_of_many_windows_are_drawn_without_replacement():
    # steps_per_epoch × batch_size ≤ 1/16 of the windows: sampled directly, each window at
    # most once, inside its series; the same seed and epoch give the same draws.
    from kseq.data.panel_window_dataset import PanelWindowDataset

    panel = read_panel(make_frame(lengths=(400, 300, 500), starts=("2000-01-01",) * 3))
    starts = make_panel_starts(panel.offsets, panel.offsets[1:], 7)

    def make(seed):
        return PanelWindowDataset(
            panel.values, None, None, starts, lookback=4, horizon=3, batch_size=8,
            steps_per_epoch=9, seed=seed,
        )  # fmt: skip

    data = make(0)
    assert len(data.order) == 72 and len(set(data.order)) == 72
    windows = panel.values[data.starts[data.order][:, None] + np.arange(7)]
    np.testing.assert_array_equal(np.diff(windows, axis=1), 1.0)
    np.testing.assert_array_equal(make(0).order, data.order)
    assert not np.array_equal(make(1).order, data.order)
    first = data.order.copy()
    data.on_epoch_end()
    assert not np.array_equal(data.order, first)  # a new draw each epoch


@pytest.mark.parametrize("sampling", ["windows", "series"])
def test_windows_computed_per_batch_are_the_stored_windows(sampling):
    # WindowStarts (O(series)) and PreparedPanel-style lookups serve the batches that stored
    # starts serve, batch by batch.
    from kseq.data.panel_window_dataset import PanelWindowDataset
    from kseq.data.window_starts import WindowStarts

    panel = read_panel(make_frame())
    ends = panel.offsets[1:] - 3
    stored = make_panel_starts(panel.offsets, ends, 9)
    computed = WindowStarts.of(panel.offsets, ends, 9)
    assert len(computed) == len(stored)
    np.testing.assert_array_equal(computed[np.arange(len(stored))], stored)
    options = dict(lookback=5, horizon=4, batch_size=16, sampling=sampling, seed=2)
    scaled = np.zeros(len(panel.values), dtype=bool)
    datasets = [
        PanelWindowDataset(panel.values, scaled, None, s, offsets=panel.offsets, **options)
        for s in (stored, computed)
    ]
    assert len(datasets[0]) == len(datasets[1])
    for i in range(len(datasets[0])):
        for a, b in zip(datasets[0][i], datasets[1][i], strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_missing_static_column_is_named_as_one():
    with pytest.raises(ColumnNotFoundError, match=r"no static column 'region'.*\[data\] static"):
        read_panel(make_frame(), static_columns=["region"])
