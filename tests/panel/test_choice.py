"""The panel choice: the incumbent classical model unless a candidate beats it on evidence."""

import numpy as np
import pandas as pd
import pytest

from kseq.evaluation.choice import choose_by_evidence, compare_paired


def make_scores(columns, origins=1):
    """Long scores from ``{method: per-pair MASE}``; pairs split evenly over `origins`."""
    rows = []
    for method, values in columns.items():
        for k, value in enumerate(values):
            rows.append((k % origins, f"s{k // origins}", method, value))
    return pd.DataFrame(rows, columns=["origin", "unique_id", "method", "mase"])


def test_a_candidate_lower_on_every_series_replaces_the_incumbent():
    ets = np.linspace(0.5, 1.5, 20)
    step = np.arange(20) * 1e-3  # distinct differences: no tied ranks
    scores = make_scores({"ets": ets, "kseq": ets - 0.1 - step, "kseq+ets": ets - 0.05 - step})
    choice = choose_by_evidence(scores, ["kseq", "ets", "kseq+ets"], "ets", alpha=0.05)
    # Every one of the 20 differences is negative: the exact one-sided p is 2 ** -20 for both
    # challengers, far below 0.05 / 2; the lower mean of the two wins.
    assert choice.p_values["kseq"] == pytest.approx(2.0**-20)
    assert choice.chosen == "kseq" and choice.incumbent == "ets"
    assert "kseq" in choice.reason and "ets" in choice.reason


def test_a_lower_mean_from_a_few_series_keeps_the_incumbent():
    # kseq is far better on 2 of 20 series and a little worse on the other 18: its mean is
    # lower, but the series do not agree.
    ets = np.ones(20)
    kseq = np.full(20, 1.05)
    kseq[:2] = 0.2
    assert kseq.mean() < ets.mean()
    scores = make_scores({"ets": ets, "kseq": kseq})
    choice = choose_by_evidence(scores, ["kseq", "ets"], "ets", alpha=0.05)
    assert choice.chosen == "ets" and choice.p_values["kseq"] > 0.5
    assert "kept ets" in choice.reason
    # Without the test, the lowest mean wins.
    assert choose_by_evidence(scores, ["kseq", "ets"], "ets", alpha=1.0).chosen == "kseq"
    assert choose_by_evidence(scores, ["kseq", "ets"], None).chosen == "kseq"


def test_the_level_is_shared_by_every_comparison():
    # Six challengers against ETS; one is lower on 7 of 8 series. Its exact one-sided p-value:
    # the signed-rank statistic's lower tail under H0 (all 2 ** 8 sign patterns equally likely).
    ets = np.arange(1.0, 9.0)
    better = ets - np.arange(1, 9) * 0.01
    better[1] = ets[1] + 0.02  # the second smallest |difference| goes the other way
    columns = {"ets": ets, "kseq": better}
    for k in range(5):
        columns[f"other{k}"] = ets + 1
    scores = make_scores(columns, origins=2)
    diffs = better - ets
    ranks = np.argsort(np.argsort(np.abs(diffs))) + 1
    positive = ranks[diffs > 0].sum()
    signs = (np.arange(256)[:, None] >> np.arange(8)) & 1
    p = np.mean((signs * ranks).sum(axis=1) <= positive)
    assert compare_paired(better, ets) == (pytest.approx(p), 8)
    assert 0.05 / 6 < p < 0.05
    candidates = list(columns)
    assert choose_by_evidence(scores, candidates, "ets", alpha=0.05).chosen == "ets"
    assert choose_by_evidence(scores, candidates, "ets", alpha=6 * p * 1.01).chosen == "kseq"


def test_undefined_scores_and_ties_are_left_out():
    ets = np.array([1.0, np.nan, 2.0, 3.0])
    kseq = np.array([1.0, 0.5, 1.5, 2.5])
    assert compare_paired(kseq, ets)[1] == 2
    assert compare_paired(ets, ets) == (1.0, 0)
    scores = make_scores({"ets": [np.nan] * 3, "kseq": [1.0, 2.0, 3.0]})
    # The incumbent has no score: the lowest defined mean is all there is.
    assert choose_by_evidence(scores, ["kseq", "ets"], "ets").chosen == "kseq"
    with pytest.raises(ValueError, match="No candidate"):
        choose_by_evidence(make_scores({"ets": [np.nan]}), ["ets"], "ets")
