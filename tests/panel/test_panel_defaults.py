"""A panel recipe that sets only its data: sizes chosen from the panel, a global model's
training budget, and every classical baseline to choose from."""

import numpy as np
import pandas as pd
import pytest

from kseq.config import PANEL_AUTO_KEYS, PANEL_BASELINES, load_recipe
from kseq.data import read_panel
from kseq.errors import SeriesTooShortError, TimeIndexError
from kseq.pipeline.defaults import infer_panel_defaults
from kseq.pipeline.load import load_run_panel


def make_frame(lengths, freq="QS", negative_tail=()):
    parts = []
    for i, n in enumerate(lengths):
        sid = f"s{i}"
        y = 100.0 + 10 * i + np.arange(n) + 5 * np.sin(np.arange(n))
        if sid in negative_tail:
            y[-3:] = -1.0  # turns negative at the end (a validation or test part)
        dates = pd.date_range("2000-01-01", periods=n, freq=freq)
        parts.append(pd.DataFrame({"unique_id": sid, "ds": dates, "y": y}))
    return pd.concat(parts, ignore_index=True)


def write_recipe(tmp_path, frame, extra=""):
    frame.to_csv(tmp_path / "panel.csv", index=False)
    path = tmp_path / "panel.toml"
    path.write_text(
        f"[recipe]\nname = 'p'\n[data]\nsource = 'panel'\npath = '{tmp_path / 'panel.csv'}'\n"
        + extra
    )
    return load_recipe(path)


def test_a_data_only_panel_recipe_gets_a_global_model_and_every_baseline(tmp_path):
    recipe = write_recipe(tmp_path, make_frame([40, 50]))
    assert recipe.auto == set(PANEL_AUTO_KEYS)
    assert recipe.model.units == [64, 64] and recipe.training.ensemble == 3
    assert recipe.training.batch_size == 256 and recipe.training.steps_per_epoch == 100
    assert recipe.training.early_stopping and recipe.evaluation.choose
    assert recipe.evaluation.baselines == list(PANEL_BASELINES)
    # What the recipe sets stays; num_layers sizes the stack without the default widths.
    recipe = write_recipe(
        tmp_path,
        make_frame([40, 50]),
        "[split]\ntest = 4\n[model]\nunits = 16\nnum_layers = 3\n[training]\nensemble = 1\n",
    )
    assert recipe.auto == set(PANEL_AUTO_KEYS) - {"split.test"}
    assert recipe.model.layer_units == [16, 16, 16] and recipe.training.ensemble == 1


@pytest.mark.parametrize(
    "lengths, freq, extra, want",
    [
        # Quarterly, shortest 36: M4's 8 quarters (36 // 4 = 9 allows it); the lookback
        # wants 2 x 8 = 16 but the shortest series leaves 36 - 3 x 8 = 12.
        ([36, 60], "QS", "", dict(horizon=8, test=8, validation=8, season=4, lookback=12)),
        # Monthly, shortest 40: M4's 18 months capped at 40 // 4 = 10; its training part
        # (40 - 20 = 20) holds fewer than two seasons of 12: season 1, lookback 2 x 10 = 20
        # capped at 40 - 30 = 10.
        ([40, 90], "MS", "", dict(horizon=10, test=10, validation=10, season=1, lookback=10)),
        # A test part the recipe sets is the horizon; validation follows it.
        (
            [60, 80],
            "MS",
            "[split]\ntest = 6\n",
            dict(horizon=6, test=6, validation=6, season=12, lookback=24),
        ),
    ],
)
def test_sizes_are_chosen_from_the_frequency_and_the_shortest_series(
    tmp_path, lengths, freq, extra, want
):
    frame = make_frame(lengths, freq)
    recipe = write_recipe(tmp_path, frame, extra)
    chosen, inferred = infer_panel_defaults(recipe, read_panel(frame))
    got = dict(
        horizon=chosen.windows.horizon,
        test=chosen.split.test,
        validation=chosen.split.validation,
        season=chosen.evaluation.season_length,
        lookback=chosen.windows.lookback,
    )
    assert got == want
    assert chosen.auto == frozenset()
    assert set(inferred) == set(recipe.auto)  # each chosen key says why
    # The shortest series keeps at least one training window.
    assert min(lengths) >= got["lookback"] + got["horizon"] + got["validation"] + got["test"]


def test_series_too_short_for_the_recipe_s_own_sizes_are_named_or_skipped(tmp_path):
    frame = make_frame([30, 80, 31])
    # lookback 40 + horizon, validation and test (7 each, from 30 // 4) = 61 points.
    recipe = write_recipe(tmp_path, frame, "[windows]\nlookback = 40\n")
    with pytest.raises(SeriesTooShortError, match=r"s0: 30 points.*s2: 31 points.*on_short"):
        load_run_panel(recipe)
    skip = write_recipe(tmp_path, frame, "on_short = 'skip'\n[windows]\nlookback = 40\n")
    chosen, panel, inferred = load_run_panel(skip)
    assert list(panel.ids) == ["s1"] and set(panel.skipped) == {"s0", "s2"}
    assert chosen.windows.lookback == 40 and "windows.lookback" not in inferred


def test_a_series_that_turns_negative_in_its_validation_part_is_not_on_log_scale():
    from kseq.global_forecaster import GlobalForecaster
    from kseq.models import build_forecaster

    frame = make_frame([30, 30], "MS", negative_tail=("s1",))
    panel = read_panel(frame)
    model = build_forecaster(6, 3, horizon=4, units=[4], seed=0)
    forecaster = GlobalForecaster(model, lookback=6, season_length=12)
    # The last 3 points of s1 are negative: inside the validation part (the last 4).
    forecaster.fit_transforms(panel, validation=4)
    assert forecaster.log_ids_ == {"s0"}
    # The validation windows and a forecast from the whole history read s1's negatives.
    forecast = forecaster.predict(panel, 4)
    assert len(forecast) == 2 * 4 and np.isfinite(forecast["kseq"]).all()


@pytest.mark.slow
def test_a_data_only_panel_recipe_runs_and_says_what_it_chose(tmp_path):
    pytest.importorskip("statsforecast")
    from kseq.pipeline.run import run_recipe

    # A budget small enough for a test; everything else is the defaults.
    recipe = write_recipe(
        tmp_path,
        make_frame([36, 44, 52], negative_tail=("s2",)),
        "[model]\nunits = [8]\n[training]\nepochs = 1\nsteps_per_epoch = 2\nensemble = 1\n",
    )
    card = run_recipe(recipe, run_dir=tmp_path / "run", verbose=0)
    assert set(card.inferred) == set(PANEL_AUTO_KEYS)
    assert card.config["windows"]["horizon"] == card.config["split"]["test"] == 8
    forecasts = pd.read_csv(tmp_path / "run" / "forecasts.csv")
    assert len(forecasts) == 3 * 8
    assert set(forecasts) >= {"kseq", *PANEL_BASELINES, "kseq+ets", "chosen"}
    candidates = {"kseq", "ets", "theta", "arima", "kseq+ets", "kseq+theta", "kseq+arima"}
    candidates.add("ets+theta+arima")  # the classical models' mean
    candidates |= {"pretrained", "pretrained+ets"}  # the shipped network, zero-shot
    np.testing.assert_allclose(
        forecasts["ets+theta+arima"], forecasts[["ets", "theta", "arima"]].mean(axis=1)
    )
    assert card.panel.chosen in candidates
    validation = card.panel.validation["mase"]
    # The rule the shipped network learned for quarterly series (its card), in the panel's
    # names, unless a candidate's mean is lower and its p-value below 0.05 / 10 comparisons.
    from kseq.pretrained import load_pretrained

    incumbent = load_pretrained().rule["quarterly"].replace("kseq", "pretrained")
    assert card.panel.incumbent == incumbent
    assert set(card.panel.p_values) == candidates - {incumbent}
    passing = [
        m
        for m, p in card.panel.p_values.items()
        if p < 0.05 / (len(candidates) - 1) and validation[m] < validation[incumbent]
    ]
    assert card.panel.chosen == (min(passing, key=validation.get) if passing else incumbent)
    assert "rule for quarterly series" in card.panel.reason
    text = (tmp_path / "run" / "run_card.md").read_text()
    assert "chosen from the data: `windows.lookback`" in text


def test_the_recipe_s_frequency_reaches_the_panel_reader(tmp_path):
    # Every series misses its fifth month: nothing to infer the frequency from, and the error
    # says to set it; set, the gap itself is reported with its series and date.
    frame = make_frame([40, 50], "MS")
    frame = frame[frame.ds != "2000-05-01"]
    with pytest.raises(TimeIndexError, match=r"frequency cannot be inferred.*data\.freq"):
        load_run_panel(write_recipe(tmp_path, frame))
    with pytest.raises(TimeIndexError, match=r"series 's0' has a gap .* at 2000-06-01"):
        load_run_panel(write_recipe(tmp_path, frame, "freq = 'MS'\n"))
    # With a frequency the dates do fit, the recipe's own reaches the panel.
    _, panel, _ = load_run_panel(
        write_recipe(tmp_path, make_frame([40, 50], "MS"), "freq = 'MS'\n")
    )
    assert panel.freq == "MS"


def test_a_skipped_short_series_does_not_shrink_the_others_sizes(tmp_path):
    # Two 76-quarter series and one of 10 quarters. Left out, the short one must not set the
    # sizes: quarterly M4 horizon 8 (76 // 4 = 19 allows it), season 4, lookback 2 x 8 = 16.
    frame = make_frame([76, 10, 76], "QS")
    skip = write_recipe(tmp_path, frame, "on_short = 'skip'\n")
    chosen, panel, inferred = load_run_panel(skip)
    assert list(panel.ids) == ["s0", "s2"] and set(panel.skipped) == {"s1"}
    assert "10 points" in panel.skipped["s1"]
    got = (chosen.windows.horizon, chosen.evaluation.season_length, chosen.windows.lookback)
    alone, _ = infer_panel_defaults(skip, read_panel(frame[frame.unique_id != "s1"]))
    assert got == (8, 4, 16)
    assert got == (alone.windows.horizon, alone.evaluation.season_length, alone.windows.lookback)
    # Without skip the sizes fit the short series, so that no series is left out.
    chosen, panel, _ = load_run_panel(write_recipe(tmp_path, frame))
    assert len(panel) == 3 and not panel.skipped
    assert chosen.windows.horizon == 10 // 4


@pytest.mark.parametrize("method", ["ffill", "interpolate"])
def test_a_panel_s_nan_and_gaps_are_filled_per_series_when_the_recipe_asks(tmp_path, method):
    frame = make_frame([40, 50], "MS")
    frame.loc[3, "y"] = np.nan  # s0's fourth month
    gap = frame.index[(frame.unique_id == "s1") & (frame.ds == "2001-06-01")]
    original = frame.set_index(["unique_id", "ds"])["y"]
    frame = frame.drop(gap)
    with pytest.raises(Exception, match=r"'s0' has missing values.*data\.missing"):
        load_run_panel(write_recipe(tmp_path, frame, "[split]\ntest = 6\n"))
    recipe = write_recipe(
        tmp_path,
        frame,
        f"missing = '{method}'\nfreq = 'MS'\n[split]\ntest = 6\n",
    )
    _, panel, _ = load_run_panel(recipe)
    assert list(panel.lengths) == [40, 50]
    s0, s1 = panel.series(0), panel.series(1)
    neighbours = {
        "ffill": (original.iloc[2], original["s1"].iloc[16]),
        "interpolate": (
            (original.iloc[2] + original.iloc[4]) / 2,
            (original["s1"].iloc[16] + original["s1"].iloc[18]) / 2,
        ),
    }[method]
    np.testing.assert_allclose([s0[3], s1[17]], neighbours, rtol=1e-6)
    # Nothing else moved, and nothing crossed from one series to the other.
    np.testing.assert_allclose(np.delete(s1, 17), np.delete(original["s1"].to_numpy(), 17))
    # A NaN at a series' start has nothing to fill it from: named, not dropped.
    frame.loc[0, "y"] = np.nan
    with pytest.raises(Exception, match=r"'s0'.*at 2000-01-01.*start or end"):
        load_run_panel(write_recipe(tmp_path, frame, f"missing = '{method}'\n"))


def test_the_bundled_panel_refuses_keys_that_fill_a_csv(tmp_path):
    from kseq.errors import ConfigError

    path = tmp_path / "r.toml"
    path.write_text("[recipe]\nname = 'p'\n[data]\nsource = 'us_employment'\nmissing = 'ffill'\n")
    with pytest.raises(ConfigError, match=r"\[data\] missing .*us_employment"):
        load_recipe(path)


def test_the_pretrained_network_leaves_the_candidates_past_its_horizon(tmp_path):
    from kseq.config import PRETRAINED_HORIZON

    frame = make_frame([120, 130], "MS")
    chosen, _, inferred = load_run_panel(write_recipe(tmp_path, frame, "[split]\ntest = 30\n"))
    assert chosen.windows.horizon == 30 > PRETRAINED_HORIZON
    assert "pretrained" not in chosen.evaluation.baselines
    assert "at most 24 steps" in inferred["evaluation.baselines"]
    chosen, _, inferred = load_run_panel(write_recipe(tmp_path, frame, "[split]\ntest = 12\n"))
    assert "pretrained" in chosen.evaluation.baselines
    assert "evaluation.baselines" not in inferred
