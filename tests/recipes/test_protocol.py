"""The quality issue's held-out protocol stays inside the training years."""

import pandas as pd

from kseq.evaluation.backtest import make_series_cut
from kseq.evaluation.protocol import AIRPASSENGERS_PROTOCOL as PROTOCOL
from kseq.pipeline.load import load_series
from kseq.pipeline.split import split_run
from kseq.recipes.config import load_recipe, recipe_path


def test_the_airpassengers_protocol_never_reaches_the_test_years():
    recipe = load_recipe(recipe_path(PROTOCOL.recipe))
    series = load_series(recipe.data)
    never = pd.Timestamp(PROTOCOL.never_reaches)
    # The recipe's own test part begins where the protocol must stop.
    assert series.index[split_run(series, recipe.split).test_start] == never
    make_run = make_series_cut(recipe, PROTOCOL.length)
    ends = []
    for origin in PROTOCOL.origins:
        data = split_run(series, make_run(origin).split)
        index = data.series.index
        assert index[data.test_start] == pd.Timestamp(origin)  # scored from the origin on
        assert data.num_test == PROTOCOL.length
        # Validation (the recipe's 12 months) ends where the origin's test part begins.
        assert data.split.validation.stop == data.test_start
        assert data.split.validation.stop - data.split.validation.start == 12
        assert index[-1] < never
        ends.append(index[-1])
    assert max(ends) == pd.Timestamp("1958-12-01")


def test_the_recipe_module_runs_the_protocol(monkeypatch):
    import kseq.cli
    from kseq.recipes import airpassengers

    calls = []
    monkeypatch.setattr(kseq.cli, "main", lambda argv: calls.append(argv) or 0)
    assert airpassengers.main(["--protocol", "--backend", "jax"]) == 0
    assert calls == [
        ["backtest", "airpassengers", "--origins", *PROTOCOL.origins, "--length", "24"]
        + ["--backend", "jax"]
    ]
