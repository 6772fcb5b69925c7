"""Stage 1b, defaults: the keys a recipe for the user's own CSV leaves out, chosen from the data.

A `Recipe` of ``[data] source = "csv"`` lists in `Recipe.auto` the keys of `AUTO_KEYS` that
its file did not set; `infer_defaults` fills them from the loaded series, before the split:

- ``evaluation.season_length`` from the dates' frequency: monthly 12, quarterly 4, weekly 52,
  daily 7, business-daily 5, hourly 24, yearly 1 (another frequency, a multiple such as two
  months, or fewer than three seasons of data: 1, with the reason);
- ``windows.horizon``, ``split.test`` and ``split.validation``: the M4 competition's horizon
  for the frequency (yearly 6, quarterly 8, monthly 18, weekly 13, daily 14, hourly 48; 8
  otherwise), at most a sixth of the series;
- ``windows.lookback``: twice the horizon, at least two seasons, and at most half of what the
  training part leaves after one horizon (so that windows remain);
- ``transforms.log``: on when every value is positive (the later parts are read as inputs);
- ``transforms.difference``: ``[season_length]`` when the training part's seasonal strength
  (a classical decomposition: 1 − var(remainder) / var(seasonal + remainder), on log scale
  when logged) exceeds 0.64 — the rule of R's ``forecast::nsdiffs(test = "seas")``.
- ``evaluation.baselines``: naive, seasonal naive (with a season) and ETS (statsforecast's
  AutoETS), so that the validation choice weighs the net against the per-series reference and
  keeps ETS unless another candidate is better on evidence (`kseq.evaluation.choice`).

Every choice is fitted on the training part only (the part before validation and test) and
recorded with its reason in the run card (`RunCard.inferred`). A key the recipe sets is never
changed.

A panel recipe (``source = "panel"``) gets the same for `PANEL_AUTO_KEYS` from
`infer_panel_defaults`, sized on its shortest series; its model and training keys default to
a global model's (`PANEL_DEFAULTS`).
"""

import dataclasses

import numpy as np
import pandas as pd

from kseq.config import AUTO_KEYS
from kseq.pipeline.split import cut_series, split_run

__all__ = [
    "AUTO_KEYS",
    "describe_frequency",
    "infer_defaults",
    "infer_panel_defaults",
    "measure_seasonal_strength",
]
# (pandas offset class names, season length, what it is called, M4 horizon)
_FREQUENCIES = (
    (("YearBegin", "YearEnd", "BYearBegin", "BYearEnd"), 1, "yearly", 6),
    (("QuarterBegin", "QuarterEnd", "BQuarterBegin", "BQuarterEnd"), 4, "quarterly", 8),
    (("MonthBegin", "MonthEnd", "BusinessMonthBegin", "BusinessMonthEnd"), 12, "monthly", 18),
    (("Week",), 52, "weekly", 13),
    (("Day",), 7, "daily", 14),
    (("BusinessDay",), 5, "business-daily", 14),
    (("Hour",), 24, "hourly", 48),
)
STRENGTH_THRESHOLD = 0.64
# A panel's choice compares mean validation MASEs of seven candidates; one short window of a
# small panel scores few values, so earlier windows are added (`choice_origins`) until about
# this many values per method are scored, each costing one more training of the net.
CHOICE_SCORED, CHOICE_ORIGINS_MAX = 1000, 3


@dataclasses.dataclass(frozen=True)
class Frequency:
    """What the dates say: the season length, its name and the M4 horizon."""

    season_length: int
    name: str
    horizon: int


def describe_frequency(index):
    """The `Frequency` of a `DatetimeIndex` (season 1 and horizon 8 when unknown)."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3:
        return Frequency(1, "no dates", 8)
    freq = index.freq
    if freq is None:
        freq = pd.DatetimeIndex(index, freq="infer").freq
        if freq is None:
            return Frequency(1, "irregular dates", 8)
    kind = type(freq).__name__
    for names, season, name, horizon in _FREQUENCIES:
        if kind in names:
            if freq.n != 1:
                return Frequency(1, f"every {freq.n} {name} steps ({freq.freqstr})", horizon)
            return Frequency(season, f"{name} dates ({freq.freqstr})", horizon)
    return Frequency(1, f"dates of frequency {freq.freqstr}", 8)


def measure_seasonal_strength(values, season_length):
    """Seasonal strength in [0, 1] of a classical additive decomposition of `values`.

    The trend is the centred moving average over one season (2 × m for even m); the seasonal
    part the mean detrended value of each position in the season; strength is
    ``max(0, 1 - var(remainder) / var(detrended))``. Fewer than two seasons: 0.
    """
    values = np.asarray(values, dtype="float64")
    m = int(season_length)
    if m < 2 or len(values) < 2 * m + 1:
        return 0.0
    if m % 2:
        kernel = np.full(m, 1.0 / m)
    else:
        kernel = np.concatenate([[0.5], np.ones(m - 1), [0.5]]) / m
    trend = np.convolve(values, kernel, mode="valid")
    start = (len(kernel) - 1) // 2
    detrended = values[start : start + len(trend)] - trend
    phase = (np.arange(len(detrended)) + start) % m
    means = np.array([detrended[phase == p].mean() for p in range(m)])
    seasonal = (means - means.mean())[phase]
    remainder = detrended - seasonal
    total = detrended.var()
    if total == 0:
        return 0.0
    return float(max(0.0, 1.0 - remainder.var() / total))


def infer_defaults(recipe, series):
    """Fills the recipe keys in ``recipe.auto`` from `series` (a `SeriesData`).

    Returns:
        ``(recipe, inferred)``: the recipe with those keys set, and ``{"section.key": reason}``.
    """
    auto = set(getattr(recipe, "auto", ()))
    if not auto:
        return recipe, {}
    # What the run sees: the series up to ``[split] end`` (a backtest's origin + test part).
    index, cut = cut_series(series.index, series.values, recipe.split.end)
    values = cut[:, 0]
    n = len(values)
    frequency = describe_frequency(index)
    inferred = {}
    season = recipe.evaluation.season_length
    if "evaluation.season_length" in auto:
        season = frequency.season_length if n >= 3 * frequency.season_length else 1
        inferred["evaluation.season_length"] = f"{season}: {frequency.name}" + (
            f", but {n} points are fewer than three seasons"
            if season < frequency.season_length
            else ""
        )

    horizon = recipe.windows.horizon
    if "windows.horizon" in auto:
        horizon = max(1, min(frequency.horizon, n // 6))
        inferred["windows.horizon"] = (
            f"{horizon}: the M4 horizon for {frequency.name} ({frequency.horizon}), "
            f"at most a sixth of the {n} points"
        )
    split = recipe.split
    for key in ("test", "validation"):
        if f"split.{key}" in auto:
            split = dataclasses.replace(split, **{key: horizon})
            inferred[f"split.{key}"] = f"{horizon}: one horizon"
    # Training points: what the (resolved) split leaves before validation and test.
    parts = split_run(series, split).split
    train = values[parts.train]
    if "windows.horizon" in auto:
        # Validation and test parts the recipe sets hold at least one horizon.
        given = [
            len(range(n)[part])
            for key, part in (("validation", parts.validation), ("test", parts.test))
            if f"split.{key}" not in auto and len(range(n)[part])
        ]
        if given and min(given) < horizon:
            horizon = min(given)
            inferred["windows.horizon"] = (
                f"{horizon}: the shortest of the recipe's validation and test parts"
            )

    lookback = recipe.windows.lookback
    if "windows.lookback" in auto:
        wanted = max(2 * horizon, 2 * season if season > 1 else 4)
        room = max(1, (len(train) - horizon) // 2)
        lookback = max(1, min(wanted, room))
        inferred["windows.lookback"] = (
            f"{lookback}: twice the horizon and at least two seasons ({wanted}), "
            f"at most half of the {len(train)} training points after one horizon ({room})"
        )

    transforms = infer_transforms(recipe.transforms, auto, series.columns, cut, train, season)
    inferred.update(transforms.pop("inferred"))
    baselines = recipe.evaluation.baselines
    if "evaluation.baselines" in auto:
        baselines, inferred["evaluation.baselines"] = list_series_baselines(season)
    recipe = dataclasses.replace(
        recipe,
        evaluation=dataclasses.replace(
            recipe.evaluation, season_length=season, baselines=baselines
        ),
        windows=dataclasses.replace(recipe.windows, horizon=horizon, lookback=lookback),
        split=split,
        transforms=dataclasses.replace(recipe.transforms, **transforms),
        auto=frozenset(),
    )
    return recipe, inferred


def list_series_baselines(season):
    """A single series' baselines left out of its recipe, and why: ``(names, reason)``."""
    baselines = ["naive", *(["seasonal_naive"] * (season > 1)), "ets"]
    return baselines, (
        f"{baselines}: the naive forecasts and statsforecast's AutoETS, the per-series "
        "reference that the choice keeps unless the net, a naive forecast or the net's mean "
        "with ETS is better on the validation part on evidence"
    )


def infer_transforms(transforms, auto, columns, cut, train, season):
    """The ``log`` and ``difference`` of the `[transforms]` section `transforms` for the keys
    in `auto`, from the series (`cut`: its columns up to ``[split] end``, `train`: its
    training part's target) and the `season`: ``{"log", "difference", "inferred"}``."""
    values = cut[:, 0]
    inferred = {}
    log = transforms.log
    if "transforms.log" in auto:
        # Every value the model reads as an input must be positive on log scale, the later
        # parts' too (one-step forecasts read them): the sign decides, no statistic is fitted.
        # The log applies to every column the model reads: other targets' and features' too.
        others = [c for j, c in enumerate(columns) if j and (cut[:, j] <= 0).any()]
        log = bool(len(values)) and bool((values > 0).all()) and not others
        inferred["transforms.log"] = f"{str(log).lower()}: " + (
            "every value is positive"
            if log
            else "the training part has values <= 0"
            if (train <= 0).any()
            else "the validation or test part has values <= 0 (the model reads them as inputs)"
            if (values <= 0).any()
            else f"column {others[0]!r} has values <= 0 (the log applies to every column)"
        )
    difference = transforms.difference
    if "transforms.difference" in auto and transforms.seasonal_adjust:
        # The season is removed by the recipe's indices; a seasonal difference would cancel
        # them, so the level alone is differenced.
        difference = [1]
        inferred["transforms.difference"] = (
            f"[1]: [transforms] seasonal_adjust = {transforms.seasonal_adjust} removes the "
            "season, a first difference the level"
        )
    elif "transforms.difference" in auto:
        scale = np.log(train) if log else train
        strength = measure_seasonal_strength(scale, season)
        difference = [season] if season > 1 and strength > STRENGTH_THRESHOLD else []
        inferred["transforms.difference"] = (
            f"{difference}: seasonal strength {strength:.2f} "
            f"{'>' if difference else '<='} {STRENGTH_THRESHOLD} on the training part"
            if season > 1
            else "[]: no season"
        )
    return {"log": log, "difference": difference, "inferred": inferred}


def infer_panel_defaults(recipe, panel, shortest=None):
    """Fills the panel recipe keys in ``recipe.auto`` (`PANEL_AUTO_KEYS`) from `panel`.

    Sizes fit the `shortest` length (the shortest series' when `None`, so no series is left
    out because of a default; `load_run_panel` passes the longest's for ``on_short = "skip"``):
    the season from the frequency (1 when the shortest training part holds fewer than two
    seasons); the horizon the recipe's test part when it sets one, else the M4 horizon for the
    frequency, at most a quarter of the shortest; test and validation one horizon each; the
    lookback twice the horizon and at least two seasons, at most what the shortest leaves
    after horizon, validation and test; the choice's origins enough for ~`CHOICE_SCORED`
    scored values per method, at most `CHOICE_ORIGINS_MAX`.

    Returns:
        ``(recipe, inferred)``: the recipe with those keys set, and ``{"section.key": reason}``.
    """
    auto = set(getattr(recipe, "auto", ()))
    if not auto:
        return recipe, {}
    lengths = np.asarray(panel.lengths)
    shortest = int(lengths.min() if shortest is None else shortest)
    frequency = describe_frequency(panel.dates(int(np.argmax(lengths))))
    inferred = {}
    split, windows = recipe.split, recipe.windows
    horizon = windows.horizon
    if "windows.horizon" in auto:
        if "split.test" not in auto:
            horizon = split.test
            inferred["windows.horizon"] = f"{horizon}: the recipe's test part"
        else:
            horizon = max(1, min(frequency.horizon, shortest // 4))
            inferred["windows.horizon"] = (
                f"{horizon}: the M4 horizon for {frequency.name} ({frequency.horizon}), at "
                f"most a quarter of the shortest series ({shortest} points)"
            )
    test = split.test
    if "split.test" in auto:
        test = horizon
        inferred["split.test"] = f"{test}: one horizon"
    validation = split.validation
    if "split.validation" in auto:
        validation = test
        inferred["split.validation"] = f"{validation}: the test part's length"

    train = shortest - test - validation  # the shortest series' training part
    season = recipe.evaluation.season_length
    if "evaluation.season_length" in auto:
        season = frequency.season_length
        reason = frequency.name
        if season > 1 and train < 2 * season:
            reason = (
                f"{frequency.name}, but the shortest series' training part ({train} points) "
                "holds fewer than two seasons"
            )
            season = 1
        inferred["evaluation.season_length"] = f"{season}: {reason}"

    lookback = windows.lookback
    if "windows.lookback" in auto:
        wanted = max(2 * horizon, 2 * season if season > 1 else 4)
        room = train - horizon
        lookback = max(1, min(wanted, room))
        inferred["windows.lookback"] = (
            f"{lookback}: twice the horizon and at least two seasons ({wanted}), at most what "
            f"the shortest series leaves after horizon, validation and test ({room})"
        )
    origins = recipe.evaluation.choice_origins
    if "evaluation.choice_origins" in auto:
        origins, inferred["evaluation.choice_origins"] = count_choice_origins(
            len(panel), validation, recipe.evaluation.choose
        )
    recipe = dataclasses.replace(
        recipe,
        evaluation=dataclasses.replace(
            recipe.evaluation, season_length=season, choice_origins=origins
        ),
        windows=dataclasses.replace(windows, horizon=horizon, lookback=lookback),
        split=dataclasses.replace(split, test=test, validation=validation),
        auto=frozenset(),
    )
    return recipe, inferred


def count_choice_origins(num_series, validation, choose):
    """The origins the choice is scored on, and why: enough for ~`CHOICE_SCORED` scored values
    per method, at most `CHOICE_ORIGINS_MAX` (each one more training of the net)."""
    if not choose:
        return 1, "1: evaluation.choose = false"
    scored = num_series * validation
    origins = max(1, min(CHOICE_ORIGINS_MAX, -(-CHOICE_SCORED // scored))) if scored else 1
    return origins, (
        f"{origins}: {num_series} series x {validation} validation points = {scored} scored "
        f"values per method on one origin; origins for ~{CHOICE_SCORED:,}, at most "
        f"{CHOICE_ORIGINS_MAX} (each one more training of the net)"
    )
