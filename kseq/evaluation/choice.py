"""The choice of a run's method: a classical incumbent, replaced on evidence only.

A run's choice compares several candidates (a panel's: the net, ETS, Theta, ARIMA and the
net's mean with each; one series': the net, the naive forecasts, ETS and the net's mean with it)
on a few validation windows. Picking the lowest mean MASE among seven noisy means picks noise
when the windows are few and short (a few dozen quarterly series give a few hundred scored
values, and a regime shift between the validation and test windows punishes whatever fitted
the validation windows best). So the choice starts from the incumbent — a panel's first
classical model among the baselines, ETS by default, the field's per-series reference — and
moves to another candidate only when that candidate's mean MASE is lower *and* its MASE is
lower than the incumbent's by a one-sided Wilcoxon signed-rank test, paired over the scored
(origin, series) pairs, at level ``alpha`` divided by the number of comparisons (Bonferroni:
the risk of leaving the incumbent by chance stays below ``alpha``). Among the candidates that
pass, the lowest mean wins. ``alpha = 1`` skips the test (the lowest mean wins). One window of
one series is one pair, which never passes (its smallest p-value is 1/2).
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Choice", "choose_by_evidence", "compare_paired"]


@dataclass(frozen=True)
class Choice:
    """The chosen candidate, why, and each challenger's one-sided p-value against the
    incumbent (``{name: p}``; empty when no test was made)."""

    chosen: str
    reason: str
    incumbent: str | None = None
    p_values: dict = field(default_factory=dict)


def compare_paired(candidate, incumbent):
    """One-sided Wilcoxon signed-rank p-value that `candidate`'s scores are lower than
    `incumbent`'s, paired by position (pairs with an undefined score and ties are left out;
    no pair left: 1.0), and the number of pairs that counted."""
    from scipy.stats import wilcoxon

    candidate = np.asarray(candidate, dtype="float64")
    incumbent = np.asarray(incumbent, dtype="float64")
    difference = candidate - incumbent
    difference = difference[np.isfinite(difference) & (difference != 0)]
    if not len(difference):
        return 1.0, 0
    return float(wilcoxon(difference, alternative="less").pvalue), len(difference)


def choose_by_evidence(scores, candidates, incumbent, alpha=0.05):
    """The `Choice` among `candidates` from per-series scores.

    Args:
        scores: one row per scored pair and method: ``origin``, ``unique_id``, ``method``,
            ``mase``.
        candidates: the names that may be chosen (methods of `scores`).
        incumbent: the candidate kept unless another is better on evidence; `None`: the
            lowest mean wins.
        alpha: the test's level over all comparisons together (1: no test).
    """
    table = scores.pivot_table(
        index=["origin", "unique_id"], columns="method", values="mase", dropna=False
    )
    means = {name: float(table[name].mean()) for name in candidates if name in table}
    means = {name: value for name, value in means.items() if np.isfinite(value)}
    if not means:
        raise ValueError(f"No candidate has a defined validation MASE: {list(candidates)}.")
    listed = ", ".join(f"{name} {value:.3f}" for name, value in means.items())
    lowest = min(means, key=means.get)
    if incumbent is None or incumbent not in means or alpha >= 1:
        return Choice(lowest, f"lowest mean MASE ({listed})")
    comparisons = len(means) - 1
    level = alpha / max(1, comparisons)
    p_values, counts = {}, {}
    for name in means:
        if name != incumbent:
            p_values[name], counts[name] = compare_paired(table[name], table[incumbent])
    passing = [name for name, p in p_values.items() if means[name] < means[incumbent] and p < level]
    tested = ", ".join(
        f"{name} {means[name]:.3f} (p = {p_values[name]:.2g}, {counts[name]} pairs)"
        for name in p_values
    )
    rule = f"one-sided Wilcoxon paired by (origin, series) at {alpha:g}/{comparisons} = {level:.3g}"
    if not passing:
        return Choice(
            incumbent,
            f"kept {incumbent} (mean MASE {means[incumbent]:.3f}): no candidate's MASE is lower "
            f"on evidence ({rule}): {tested}",
            incumbent,
            p_values,
        )
    chosen = min(passing, key=means.get)
    return Choice(
        chosen,
        f"{chosen}: lowest mean MASE among the candidates better than {incumbent} "
        f"({means[incumbent]:.3f}) on evidence ({rule}): {tested}",
        incumbent,
        p_values,
    )
