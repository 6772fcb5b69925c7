"""Panels stored as shards (a folder of Parquet/CSV files), read and trained one at a time."""

import numpy as np
import pandas as pd
import pytest

from kseq.data import read_panel, read_panel_shards
from kseq.data.panel_window_dataset import PanelWindowDataset, make_panel_starts
from kseq.data.sharded_panel_window_dataset import ShardedPanelWindowDataset
from kseq.errors import DataError, EmptyDataError
from kseq.global_forecaster import GlobalForecaster
from kseq.models import build_forecaster
from kseq.training_config import TrainingConfig

pytest.importorskip("pyarrow")

LOOKBACK, HORIZON = 6, 3


def make_frame(num_series=7, seed=0):
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(num_series):
        n = 20 + 3 * i
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2001-01-01", periods=n, freq="MS")
                    + pd.DateOffset(months=i),
                    "y": 50 + np.cumsum(rng.normal(size=n)),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def write_shards(folder, frame, groups=((0, 1, 2), (3, 4), (5, 6))):
    folder.mkdir()
    for k, ids in enumerate(groups):
        part = frame[frame["unique_id"].isin([f"s{i}" for i in ids])]
        if k == 1:
            part.to_csv(folder / f"part-{k}.csv", index=False)  # CSV and Parquet may mix
        else:
            part.to_parquet(folder / f"part-{k}.parquet", index=False)
    return folder


def test_a_folder_of_shards_reads_like_one_file(tmp_path):
    frame = make_frame()
    whole = read_panel(frame)
    folder = write_shards(tmp_path / "shards", frame)
    shards = read_panel_shards(folder)
    assert len(shards) == 3 and shards.num_series == 7 and shards.num_values == len(frame)
    assert [len(x) for x in shards.lengths] == [3, 2, 2]
    joined = read_panel(folder)
    order = np.argsort(joined.ids)
    assert list(joined.ids[order]) == list(whole.ids)
    for i, j in enumerate(order):
        np.testing.assert_array_equal(joined.series(j), whole.series(i))
        assert joined.starts[j] == whole.starts[i]
    assert joined.freq == whole.freq


def test_joining_shards_keeps_only_one_shard_alive():
    # `concat_panels(..., num_values=)` copies each shard's values into the joined array; no
    # shard's own buffer may outlive its turn (a view of it would keep it alive: one more
    # copy of the whole panel by the end).
    import gc
    import weakref

    from kseq.data.panel import concat_panels

    alive = []

    def shards():
        for k, ids in enumerate(((0, 1, 2), (3, 4), (5, 6))):
            frame = make_frame()
            panel = read_panel(frame[frame["unique_id"].isin([f"s{i}" for i in ids])])
            alive.append(weakref.ref(panel.values))
            yield panel
            del panel
            gc.collect()
            assert sum(ref() is not None for ref in alive) == 0, f"shard {k} still alive"

    whole = read_panel(make_frame())
    joined = concat_panels(shards(), num_values=len(whole.values))
    gc.collect()
    assert all(ref() is None for ref in alive)
    np.testing.assert_array_equal(joined.values, whole.values)
    np.testing.assert_array_equal(joined.offsets, whole.offsets)


def test_a_folder_read_skips_short_series_like_one_file(tmp_path):
    # The folder is read into one array sized for every row; skipped series shrink it.
    frame = make_frame()
    folder = write_shards(tmp_path / "shards", frame)
    whole = read_panel(frame, min_length=30, on_short="skip")
    joined = read_panel(folder, min_length=30, on_short="skip")
    assert sorted(joined.skipped) == sorted(whole.skipped) == ["s0", "s1", "s2", "s3"]
    assert len(joined.values) == joined.offsets[-1] == len(whole.values)
    for sid in whole.ids:
        i, j = list(whole.ids).index(sid), list(joined.ids).index(sid)
        np.testing.assert_array_equal(joined.series(j), whole.series(i))


def test_shard_errors_name_the_series_and_the_files(tmp_path):
    frame = make_frame()
    folder = write_shards(tmp_path / "twice", frame, groups=((0, 1, 2), (2, 3), (4, 5, 6)))
    with pytest.raises(DataError, match=r"Series 's2' is in two shards, part-0.parquet and part-1"):
        read_panel_shards(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyDataError, match="holds no .parquet or .csv file"):
        read_panel_shards(tmp_path / "empty")
    bad = write_shards(tmp_path / "bad", frame)
    broken = frame[frame["unique_id"] == "s5"].copy()
    broken.loc[broken.index[4], "y"] = np.nan
    broken.to_parquet(bad / "part-2.parquet", index=False)
    shards = read_panel_shards(bad)
    with pytest.raises(DataError, match=r"part-2.parquet: series 's5' has missing values"):
        shards.read(2)


def test_workers_get_disjoint_shares_of_the_shards(tmp_path):
    shards = read_panel_shards(write_shards(tmp_path / "shards", make_frame()))
    first, second = shards.part(0, 2), shards.part(1, 2)
    assert set(first.paths).isdisjoint(second.paths)
    assert set(first.paths) | set(second.paths) == set(shards.paths)
    with pytest.raises(DataError, match="4 workers share 3 shard"):
        shards.part(0, 4)


def test_sharded_windows_are_the_panels_windows_one_shard_at_a_time(tmp_path):
    frame = make_frame()
    shards = read_panel_shards(write_shards(tmp_path / "shards", frame))
    window = LOOKBACK + HORIZON

    def prepare(panel):
        return panel.values.astype("float64"), np.ones(len(panel.values), bool), None

    def starts_of(panel):
        return make_panel_starts(panel.offsets, panel.offsets[1:], window)

    counts = [np.maximum(lengths - window + 1, 0).sum() for lengths in shards.lengths]
    options = {"lookback": LOOKBACK, "horizon": HORIZON, "batch_size": 8}
    sharded = ShardedPanelWindowDataset(shards, prepare, starts_of, counts, seed=3, **options)
    whole = read_panel(frame)
    values, scaled, _ = prepare(whole)
    reference = PanelWindowDataset(values, scaled, None, starts_of(whole), shuffle=False, **options)

    def rows(data):
        batches = [data[i] for i in range(len(data))]
        both = np.concatenate([np.concatenate([x[..., 0], y[..., 0]], 1) for x, y in batches])
        return both[np.lexsort(both.T[::-1])]

    for _ in range(2):  # two epochs, each in a new order
        np.testing.assert_allclose(rows(sharded), rows(reference), rtol=1e-6)
        sharded.on_epoch_end()
    # Each shard was read once per epoch: batches of one shard are served together.
    assert sharded.shards_read == 2 * len(shards)


def test_global_forecaster_trains_and_forecasts_on_shards(tmp_path):
    frame = make_frame()
    shards = read_panel_shards(write_shards(tmp_path / "shards", frame))
    model = build_forecaster(LOOKBACK, num_features=1, horizon=HORIZON, units=[4])
    forecaster = GlobalForecaster(model, lookback=LOOKBACK, calendar=False)
    history = forecaster.fit(
        shards, validation=HORIZON, training=TrainingConfig(epochs=2, batch_size=8, seed=0)
    )
    assert len(history.history["loss"]) == 2 and "val_loss" in history.history
    assert np.isfinite(history.history["val_loss"]).all()
    assert forecaster.log_ids_ == {f"s{i}" for i in range(7)}  # every series is positive
    by_shard = forecaster.predict(shards).sort_values(["unique_id", "ds"], ignore_index=True)
    at_once = forecaster.predict(read_panel(frame)).sort_values(["unique_id", "ds"])
    np.testing.assert_allclose(by_shard["kseq"], at_once["kseq"].to_numpy(), rtol=1e-5)
    assert len(by_shard) == 7 * HORIZON
    # A worker of two trains on its share only.
    second = GlobalForecaster(
        build_forecaster(LOOKBACK, num_features=1, horizon=HORIZON, units=[4]),
        lookback=LOOKBACK,
        calendar=False,
    )
    config = TrainingConfig(epochs=1, batch_size=8, seed=0, process_index=1, process_count=2)
    assert len(second.fit(shards, training=config).history["loss"]) == 1
