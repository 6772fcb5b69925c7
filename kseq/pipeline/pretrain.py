"""Pretraining kseq's global network on the competition corpus, from a seed, in stages.

1. **Validate**: the network is trained on each series' training part without its last
   `horizon` points (the fit part) and scored on those points; early stopping picks the epoch.
2. **Rule**: on the same validation points, per frequency kind, the net, AutoETS (fitted on
   the fit parts) and their mean are compared by mean MASE; the best is the kind's default.
3. **Refit**: a new network is trained on the whole training parts for the chosen epochs —
   the weights that ship. Test parts are never read.
"""

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from kseq.data.competitions import COMPETITIONS, load_competition
from kseq.errors import ConfigError
from kseq.evaluation.panel_baselines import forecast_baselines
from kseq.pipeline.benchmark import score_rows
from kseq.pretrained.inputs import concat_windows, make_training_windows
from kseq.pretrained.network import QUANTILES
from kseq.pretrained.pretrained_forecaster import PretrainedForecaster
from kseq.pretrained.training import PretrainingConfig, pretrain_network

MIN_CONTEXT = 3
MAX_WINDOWS_PER_SERIES = 80


@dataclass(frozen=True)
class RuleEvidence:
    """Mean validation MASE per frequency kind and candidate, and the rule it gives."""

    mase: dict
    num_series: dict
    rule: dict


@dataclass(frozen=True)
class PretrainingReport:
    """What a pretraining run did, for ``pretraining.json`` and the model card."""

    corpora: list
    num_series: int
    num_windows: int
    config: dict
    validate: dict
    refit: dict
    evidence: RuleEvidence
    seconds: dict = field(default_factory=dict)

    def to_json(self):
        return asdict(self)


def load_corpus(corpora, max_series=None):
    """The `CompetitionPart`s of `corpora` (each trimmed to `max_series` series if given)."""
    unknown = sorted(set(corpora) - set(COMPETITIONS))
    if unknown or not corpora:
        raise ConfigError(
            f"Pretraining corpora must be among {list(COMPETITIONS)}. Received: {list(corpora)}"
        )
    parts = [part for name in corpora for part in load_competition(name)]
    return [part.head(max_series) for part in parts] if max_series else parts


def _series(part, cut=0):
    panel = part.train
    return [panel.series(i)[: panel.lengths[i] - cut] for i in range(len(panel))]


def make_corpus_windows(parts, config, *, cut):
    """Training windows of every part, each series without its last `cut(part)` points."""
    return concat_windows(
        [
            make_training_windows(
                _series(part, cut(part)),
                part.frequency,
                lookback=config.lookback,
                horizon=config.horizon,
                kind_horizon=part.horizon,
                min_context=MIN_CONTEXT,
                max_windows_per_series=MAX_WINDOWS_PER_SERIES,
            )
            for part in parts
        ]
    )


def make_validation_windows(parts, config):
    """One window per series: its fit part as context, its last `horizon` training points as
    the target."""
    windows = []
    for part in parts:
        series = [values for values in _series(part) if len(values) > part.horizon + 1]
        # The origin of the only window kept is the fit part's end.
        made = make_training_windows(
            series,
            part.frequency,
            lookback=config.lookback,
            horizon=config.horizon,
            kind_horizon=part.horizon,
            min_context=1,
            max_windows_per_series=part.horizon,
        )
        windows.append(type(made)(made.steps[::part.horizon], made.kinds[::part.horizon],
                                  made.targets[::part.horizon]))  # fmt: skip
    return concat_windows(windows)


def learn_rule(forecaster, parts, *, cache_dir=None):
    """`RuleEvidence` on each series' last `horizon` training points (from its fit part)."""
    sums, counts = {}, {}
    for part in parts:
        keep = part.train.lengths > part.horizon + part.season_length + 1
        if not keep.any():
            continue
        fit = part.train.head(np.where(keep, part.train.lengths - part.horizon, part.train.lengths))
        fit = fit.drop({sid: "too short" for sid in part.train.ids[~keep]})
        full = [part.train.series(i) for i in np.flatnonzero(keep)]
        histories = [fit.series(i).astype(np.float64) for i in range(len(fit))]
        truth = [values[-part.horizon :] for values in full]
        net = forecaster.predict_quantiles(histories, part.frequency, part.horizon)
        net = net[..., forecaster.quantiles.index(0.5)]
        ets = forecast_baselines(fit, part.horizon, part.season_length, ["ets"],
                                 cache_dir=cache_dir, fallback_naive=True).frame  # fmt: skip
        ets = ets.set_index("unique_id").loc[fit.ids.astype(str), "ets"]
        ets = ets.to_numpy().reshape(len(fit), part.horizon)
        candidates = {"kseq": net, "ets": ets, "kseq+ets": (net + ets) / 2}
        for name, forecast in candidates.items():
            rows = score_rows("mase", truth, forecast, histories, part.season_length)
            key = (part.frequency, name)
            sums[key] = sums.get(key, 0.0) + float(np.nansum(rows))
            counts[key] = counts.get(key, 0) + int(np.isfinite(rows).sum())
    mase, num_series, rule = {}, {}, {}
    for (kind, name), total in sums.items():
        mase.setdefault(kind, {})[name] = round(total / max(counts[(kind, name)], 1), 4)
        num_series[kind] = counts[(kind, "kseq")]
    for kind, scores in mase.items():
        rule[kind] = min(scores, key=scores.get)
    return RuleEvidence(mase, num_series, rule)


def run_pretraining(corpora=COMPETITIONS, *, config=None, max_series=None, cache_dir=None,
                    callbacks=()):  # fmt: skip
    """Pretrains on `corpora` (see the module docstring); returns the forecaster and its
    `PretrainingReport`."""
    config = config or PretrainingConfig()
    ticks = {"start": time.perf_counter()}
    parts = load_corpus(list(corpora), max_series)
    validation = make_validation_windows(parts, config)
    fit_windows = make_corpus_windows(parts, config, cut=lambda part: part.horizon)
    validated = pretrain_network(fit_windows, config, validation=validation, callbacks=callbacks)
    ticks["validate"] = time.perf_counter()
    validated_forecaster = PretrainedForecaster(validated.model, quantiles=QUANTILES)
    evidence = learn_rule(validated_forecaster, parts, cache_dir=cache_dir)
    ticks["rule"] = time.perf_counter()
    windows = make_corpus_windows(parts, config, cut=lambda part: 0)
    refit = pretrain_network(windows, config, epochs=validated.best_epoch, callbacks=callbacks)
    ticks["refit"] = time.perf_counter()
    forecaster = PretrainedForecaster(
        refit.model, quantiles=QUANTILES, rule=evidence.rule, trained_on=list(corpora)
    )
    report = PretrainingReport(
        corpora=list(corpora),
        num_series=int(sum(len(part.train) for part in parts)),
        num_windows=len(windows),
        config=asdict(config),
        validate={
            "epochs": validated.epochs,
            "best_epoch": validated.best_epoch,
            "history": validated.history,
            "seconds": validated.seconds,
        },  # fmt: skip
        refit={"epochs": refit.epochs, "history": refit.history, "seconds": refit.seconds},
        evidence=evidence,
        seconds={
            "validate": round(ticks["validate"] - ticks["start"], 1),
            "rule": round(ticks["rule"] - ticks["validate"], 1),
            "refit": round(ticks["refit"] - ticks["rule"], 1),
        },
    )
    return forecaster, report


__all__ = ["PretrainingReport", "RuleEvidence", "load_corpus", "run_pretraining"]
