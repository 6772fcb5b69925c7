"""The quality held-out protocol stays inside the training years."""

import pandas as pd

from kseq.config import load_recipe, recipe_path
from kseq.evaluation.protocol import AIRPASSENGERS_PROTOCOL as PROTOCOL
from kseq.pipeline.backtest import make_series_cut
from kseq.pipeline.load import load_series
from kseq.pipeline.split import split_run


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


def test_the_sines_protocol_never_reaches_the_recipes_test_part():
    from kseq.evaluation.protocol import SINES_PROTOCOL

    recipe = load_recipe(recipe_path(SINES_PROTOCOL.recipe))
    series = load_series(recipe.data, recipe.recipe.seed)
    # The recipe tests on its last 30 points: positions 70-99.
    assert split_run(series, recipe.split).test_start == SINES_PROTOCOL.never_reaches == 70
    make_run = make_series_cut(recipe, SINES_PROTOCOL.length)
    for origin in SINES_PROTOCOL.origins:
        data = split_run(series, make_run(int(origin)).split)
        assert data.test_start == int(origin)
        assert data.num_test == SINES_PROTOCOL.length == 10
        assert len(data.series) <= SINES_PROTOCOL.never_reaches
        # The runs read the recipe's own series, cut (not another draw of it).
        assert (data.values == series.values[: len(data.series)]).all()
    assert max(int(o) for o in SINES_PROTOCOL.origins) + 10 == 70


def test_the_sines_module_runs_its_protocol(monkeypatch):
    import kseq.cli
    from kseq.evaluation.protocol import SINES_PROTOCOL
    from kseq.recipes import sines

    calls = []
    monkeypatch.setattr(kseq.cli, "main", lambda argv: calls.append(argv) or 0)
    assert sines.main(["--protocol", "--set", "data.family=x_sin"]) == 0
    assert sines.main(["--epochs", "2"]) == 0
    assert calls == [
        ["backtest", "sines", "--origins", *SINES_PROTOCOL.origins, "--length", "10"]
        + ["--set", "data.family=x_sin"],
        ["run", "sines", "--epochs", "2"],
    ]
