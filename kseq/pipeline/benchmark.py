"""A forecasting competition's protocol as one run: the last `horizon` points of each series
are its test part, every method sees only what comes before, each test part is scored once.

Methods: ``kseq`` (the pretrained network's median), ``chosen`` (what the network's default
rule returns for the series' frequency), and statsforecast's ``ets`` (AutoETS), ``theta``
(AutoTheta) and ``arima`` (AutoARIMA), fitted in the same run (cached by the panel's checksum,
so a second run reuses them). Where a classical model cannot be fitted on a very short
series, that series gets the naive forecast (statsforecast's fallback).
"""

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kseq.data.competitions import load_competition
from kseq.errors import ConfigError
from kseq.evaluation.panel_baselines import forecast_baselines
from kseq.pretrained.inputs import read_kind

BASELINES = ("ets", "theta", "arima")
# The competition's own accuracy measure beside MASE (M3 was scored with sMAPE, Tourism with
# MAPE).
MEASURES = {"m1": ("smape", "mase"), "m3": ("smape", "mase"), "tourism": ("mape", "mase")}
LEVELS = (80, 95)
# Published scores (the last h points of each series are the test). Sources: Makridakis &
# Hibon 2000 (M3 sMAPE: Theta, ForecastPro); Oreshkin et al. 2020, Table 14 (N-BEATS);
# Athanasopoulos et al. 2011 (Tourism MAPE); the fev benchmark and the Chronos repository's
# evaluation results (MASE of statsforecast's models and zero-shot pretrained models).
PUBLISHED = {
    "m3": {
        "smape": {
            "yearly": {"Theta": 16.90, "ForecastPro": 17.14, "N-BEATS": 15.93},
            "quarterly": {"Theta": 8.96, "ForecastPro": 9.77, "N-BEATS": 8.84},
            "monthly": {"Theta": 13.85, "ForecastPro": 13.86, "N-BEATS": 13.11},
            "other": {"Theta": 4.41, "ForecastPro": 4.60, "N-BEATS": 4.24},
            "all": {"Theta": 13.01, "ForecastPro": 13.19, "N-BEATS": 12.37},
        },
        "mase": {
            "yearly": {"AutoETS": 2.695, "TimesFM-2.0": 2.822, "Chronos-Bolt-base": 2.907},
            "quarterly": {"AutoETS": 1.144, "TimesFM-2.0": 1.202, "Chronos-Bolt-base": 1.289},
            "monthly": {"AutoETS": 0.863, "TimesFM-2.0": 0.832, "Chronos-Bolt-base": 0.851},
        },
    },
    "tourism": {
        "mape": {
            "yearly": {"ForecastPro": 26.36, "Theta": 23.45, "N-BEATS-G": 21.67},
            "quarterly": {"ForecastPro": 15.72, "Theta": 16.15, "N-BEATS-G": 14.71},
            "monthly": {"ForecastPro": 19.91, "Theta": 22.11, "N-BEATS-G": 19.17},
        },
        "mase": {
            "yearly": {"AutoETS": 3.183, "AutoTheta": 2.992, "AutoARIMA": 3.346},
            "quarterly": {"AutoETS": 1.599, "AutoTheta": 1.648, "AutoARIMA": 1.597},
            "monthly": {"AutoETS": 1.531, "AutoTheta": 1.666, "AutoARIMA": 1.483},
        },
    },
}


@dataclass(frozen=True)
class BenchmarkResult:
    """Scores of one competition.

    Attributes:
        competition: ``"m3"``, ...
        scores: ``{measure: {frequency | "all": {method: mean over series}}}``.
        coverage: ``{frequency | "all": {"80": share, "95": share}}`` of the network's
            intervals on the test parts, in percent.
        seconds: ``{frequency: {method: seconds}}`` (0 for a cached baseline).
        num_series: ``{frequency: count}``.
        rule: the network's default rule (``{kind: method}``).
        forecasts: long ``unique_id``, ``ds``, ``y`` and one column per method.
    """

    competition: str
    scores: dict
    coverage: dict
    seconds: dict
    num_series: dict
    rule: dict
    forecasts: pd.DataFrame = field(repr=False)

    def to_json(self):
        return {key: getattr(self, key) for key in ("scores", "coverage", "seconds",
                                                    "num_series", "rule")}  # fmt: skip


def score_rows(measure, truth, forecast, histories, season_length):
    """``(num_series,)`` per-series `measure` (``"smape"``, ``"mape"``, ``"mase"``), each a
    mean over the horizon; `truth`, `forecast`: ``(num_series, horizon)``."""
    truth, forecast = np.asarray(truth, np.float64), np.asarray(forecast, np.float64)
    error = np.abs(truth - forecast)
    if measure == "smape":
        total = np.abs(truth) + np.abs(forecast)
        terms = np.divide(2 * error, total, out=np.zeros_like(total), where=total > 0)
        return 100 * terms.mean(axis=1)
    if measure == "mape":
        with np.errstate(divide="ignore", invalid="ignore"):
            return 100 * np.where(truth != 0, error / np.abs(truth), np.nan).mean(axis=1)
    if measure == "mase":
        scales = np.array([
            np.mean(np.abs(h[season_length:] - h[:-season_length])) if len(h) > season_length
            else np.nan
            for h in histories
        ])  # fmt: skip
        with np.errstate(divide="ignore", invalid="ignore"):
            return error.mean(axis=1) / np.where(scales > 0, scales, np.nan)
    raise ValueError(f"Unknown measure {measure!r}; choose smape, mape or mase.")


def _choose(rule, kind, net, ets):
    # A kind the pretraining corpus did not hold has no evidence: ETS, the field's reference.
    chosen = rule.get(kind, "ets")
    return {"kseq": net, "ets": ets, "kseq+ets": (net + ets) / 2}[chosen]


def _forecast_part(forecaster, part, cache_dir, baselines):
    histories = [part.train.series(i).astype(np.float64) for i in range(len(part.train))]
    kind = read_kind(part.train.freq)
    tick = time.perf_counter()
    quantiles = forecaster.predict_quantiles(histories, kind, part.horizon)
    seconds = {"kseq": round(time.perf_counter() - tick, 3)}
    fitted = forecast_baselines(part.train, part.horizon, part.season_length, baselines,
                                cache_dir=cache_dir, fallback_naive=True)  # fmt: skip
    seconds.update(fitted.seconds)
    frame = fitted.frame.set_index("unique_id").loc[part.train.ids.astype(str)]
    methods = {"kseq": quantiles[..., forecaster.quantiles.index(0.5)]}
    for name in baselines:
        methods[name] = frame[name].to_numpy().reshape(len(part.train), part.horizon)
    methods["chosen"] = _choose(forecaster.rule, kind, methods["kseq"], methods["ets"])
    return histories, quantiles, methods, seconds, frame["ds"].to_numpy()


def _coverage(forecaster, quantiles, truth):
    inside = {}
    for level in LEVELS:
        lo, hi = forecaster.quantile_band(level)
        inside[str(level)] = (quantiles[..., lo] <= truth) & (truth <= quantiles[..., hi])
    return inside


def run_benchmark(competition, forecaster, *, cache_dir=None, max_series=None,
                  baselines=BASELINES):  # fmt: skip
    """Scores `forecaster` (a `PretrainedForecaster`) and `baselines` (AutoETS, which the
    default rule needs, and any of AutoTheta and AutoARIMA) on `competition`."""
    baselines = ["ets", *[name for name in baselines if name != "ets"]]
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ConfigError(f"Unknown baselines {unknown}; choose from {list(BASELINES)}.")
    measures = MEASURES[competition]
    parts = load_competition(competition)
    if max_series:
        parts = [part.head(max_series) for part in parts]
    rows = {measure: {} for measure in measures}
    covered, scores, seconds, counts, frames = {}, {}, {}, {}, []
    for part in parts:
        histories, quantiles, methods, took, dates = _forecast_part(
            forecaster, part, cache_dir, baselines
        )
        seconds[part.frequency], counts[part.frequency] = took, len(part.train)
        for measure in measures:
            rows[measure][part.frequency] = {
                name: score_rows(measure, part.test, forecast, histories, part.season_length)
                for name, forecast in methods.items()
            }
        covered[part.frequency] = _coverage(forecaster, quantiles, part.test)
        frame = pd.DataFrame({"unique_id": np.repeat(part.train.ids.astype(str), part.horizon),
                              "ds": dates, "y": part.test.reshape(-1)})  # fmt: skip
        for name, forecast in methods.items():
            frame[name] = forecast.reshape(-1)
        frames.append(frame)
    for measure, by_frequency in rows.items():
        scores[measure] = {
            frequency: {name: round(float(np.nanmean(v)), 4) for name, v in per_method.items()}
            for frequency, per_method in by_frequency.items()
        }
        pooled = {
            name: np.concatenate([rows_of[name] for rows_of in by_frequency.values()])
            for name in next(iter(by_frequency.values()))
        }
        scores[measure]["all"] = {
            name: round(float(np.nanmean(v)), 4) for name, v in pooled.items()
        }
    coverage = {
        frequency: {lv: round(100 * float(v.mean()), 2) for lv, v in inside.items()}
        for frequency, inside in covered.items()
    }
    coverage["all"] = {
        str(lv): round(100 * float(np.concatenate(
            [inside[str(lv)].reshape(-1) for inside in covered.values()]).mean()), 2)
        for lv in LEVELS
    }  # fmt: skip
    return BenchmarkResult(competition, scores, coverage, seconds, counts,
                           dict(forecaster.rule), pd.concat(frames, ignore_index=True))  # fmt: skip


def format_benchmark(result):
    """The result as Markdown tables: each measure per frequency, the published figures
    beside kseq's and statsforecast's from this run."""
    lines = []
    published = PUBLISHED.get(result.competition, {})
    for measure, by_frequency in result.scores.items():
        reference = published.get(measure, {})
        others = sorted({name for row in reference.values() for name in row})
        methods = list(next(iter(by_frequency.values())))
        lines += [f"### {result.competition.upper()} {measure.upper()} (lower is better)", ""]
        header = ["frequency", "series", *methods, *[f"{name} (published)" for name in others]]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for frequency, row in by_frequency.items():
            count = result.num_series.get(frequency, sum(result.num_series.values()))
            cells = [frequency, str(count)] + [f"{row[m]:.3f}" for m in methods]
            cells += [
                f"{reference.get(frequency, {}).get(name):.3f}"
                if name in reference.get(frequency, {}) else "" for name in others
            ]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["### Interval coverage of the network on the test parts (%)", "",
              "| frequency | 80 % | 95 % |", "|---|---|---|"]  # fmt: skip
    for frequency, row in result.coverage.items():
        lines.append(f"| {frequency} | {row['80']:.1f} | {row['95']:.1f} |")
    lines += ["", f"Default rule (learned on the corpus's validation windows): {result.rule}"]
    return "\n".join(lines) + "\n"
