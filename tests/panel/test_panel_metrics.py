"""Panel metrics: a series whose MASE is undefined is named, not dropped silently."""

import numpy as np
import pandas as pd

from kseq.config import SplitSection
from kseq.data import read_panel
from kseq.evaluation.panel_metrics import list_unscaled, seasonal_scales
from kseq.pipeline.panel import split_panel
from kseq.pipeline.panel_report import describe_unscaled


def make_frame():
    ds = pd.date_range("2000-01-01", periods=24, freq="QS")
    t = np.arange(24.0)
    columns = {
        "trend": 10 + t,  # seasonal naive off by 4 every step: scale 4
        "flat": np.full(24, 7.0),  # constant: scale 0
        # Repeats its season up to the validation part, then changes: scale 0 before the
        # validation part, > 0 before the test part.
        "repeats": np.where(t < 20, np.tile([1.0, 2.0, 3.0, 4.0], 6), 9.0),
    }
    return pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": ds, "y": v}) for k, v in columns.items()],
        ignore_index=True,
    )


def test_series_without_a_mase_scale_are_named_per_part():
    panel = read_panel(make_frame())
    scales = seasonal_scales(panel, 4)
    np.testing.assert_allclose(scales[list(panel.ids).index("trend")], 4.0)
    assert list_unscaled(panel, 4) == ["flat"]
    split = split_panel(panel, SplitSection(test=2, validation=2))
    notes = describe_unscaled(split, 4)
    assert len(notes) == 2
    validation, test = notes
    # Before the validation part (the first 20 points) both flat and repeats fit their
    # seasonal naive exactly; before the test part (22 points) repeats no longer does.
    assert "validation part for 2 series (flat, repeats)" in validation
    assert "test part for 1 series (flat)" in test
    assert "and of the choice's pairs" in validation and "choice" not in test
    # No validation part: the test part only.
    only_test = describe_unscaled(split_panel(panel, SplitSection(test=2, validation=0)), 4)
    assert len(only_test) == 1 and "test part for 1 series (flat)" in only_test[0]
