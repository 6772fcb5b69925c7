import warnings

import pytest

from kseq.config import load_recipe, parse_override, recipe_path, validate
from kseq.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "recipe.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "name", ["airpassengers", "airpassengers-single", "airpassengers-tutorial", "sines", "ar1"]
)
def test_bundled_recipes_are_valid(name):
    config = load_recipe(recipe_path(name))
    assert config.recipe.name == name


def test_defaults_and_overrides(tmp_path):
    config = load_recipe(
        write(tmp_path, "[windows]\nlookback = 24\n"),
        [("training", "epochs", 3), parse_override("model.units=[4, 4]")],
    )
    assert config.windows.lookback == 24 and config.windows.horizon == 1
    assert config.training.epochs == 3 and config.model.units == [4, 4]
    assert parse_override("data.family=x_sin") == ("data", "family", "x_sin")


def test_unknown_key_lists_valid_keys(tmp_path):
    with pytest.raises(
        ConfigError, match=r"unknown key 'lookbak' in \[windows\]; valid keys: lookback, horizon"
    ):
        load_recipe(write(tmp_path, "[windows]\nlookbak = 24\n"))


def test_unknown_section(tmp_path):
    with pytest.raises(
        ConfigError, match=r"unknown section \[optimiser\]; sections are recipe, data"
    ):
        load_recipe(write(tmp_path, "[optimiser]\nlr = 1\n"))


def test_wrong_type_and_bad_choice(tmp_path):
    with pytest.raises(
        ConfigError, match=r"\[training\] epochs must be int; received '10' \(str\)"
    ):
        load_recipe(write(tmp_path, "[training]\nepochs = '10'\n"))
    with pytest.raises(
        ConfigError, match=r"\[model\] cell = 'tcn' is not one of lstm, gru, simple_rnn"
    ):
        load_recipe(write(tmp_path, "[model]\ncell = 'tcn'\n"))
    with pytest.raises(ConfigError, match=r"\[windows\] random_windows must be bool; received 1"):
        load_recipe(write(tmp_path, "[windows]\nrandom_windows = 1\n"))


def test_missing_file_and_missing_csv_keys(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_recipe(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"source = 'csv' needs \[data\] path"):
        load_recipe(write(tmp_path, "[data]\nsource = 'csv'\n"))
    # A file's keys without a file source would silently read the bundled series instead.
    with pytest.raises(
        ConfigError, match=r"\[data\] path, time_column describe a file, which source = 'air"
    ):
        load_recipe(write(tmp_path, "[data]\npath = 'mine.csv'\ntime_column = 'ds'\n"))
    with pytest.raises(
        ConfigError,
        match="No bundled recipe .airpasengers.; bundled: airpassengers, airpassengers-single, "
        "airpassengers-tutorial, ar1, sines",
    ):
        recipe_path("airpasengers")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (("windows", "lookback", 0), r"\[windows\] lookback must be >= 1; received 0"),
        (("model", "dropout", 1.5), r"\[model\] dropout must be in \[0.0, 1.0\); received 1.5"),
        (("model", "units", [8, -4]), r"\[model\] units must be >= 1; received -4"),
        (("evaluation", "season_length", -12), r"season_length must be >= 1; received -12"),
        (("training", "epochs", 0), r"\[training\] epochs must be >= 1; received 0"),
        (("transforms", "difference", [0]), r"\[transforms\] difference must be >= 1"),
        (("split", "test", -3), r"\[split\] test must be >= 0; received -3"),
        (("model", "quantiles", [0.9, 0.1]), r"quantiles must be increasing levels"),
        (("evaluation", "intervals", [0.8, 1.0]), r"intervals must list distinct coverages"),
        (("evaluation", "intervals", [0.8, 0.8]), r"intervals must list distinct coverages"),
        (("transforms", "scaler", "robust"), r"scaler = 'robust' scales the series of a panel"),
        (("transforms", "scaler", "zscore"), r"scaler = 'zscore' is not one of none, standard"),
        (("evaluation", "choice_alpha", 1.5), r"choice_alpha must be in \[0.0, 1.0\]; received"),
        (("evaluation", "choice_origins", 2), r"choice_origins applies to panel recipes"),
        (("transforms", "seasonal_adjust", 1), r"seasonal_adjust is the season's length"),
        (("transforms", "seasonal_adjust", -12), r"seasonal_adjust must be >= 0; received -12"),
    ],
)
def test_values_out_of_range_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_recipe(recipe_path("airpassengers"), [override])


@pytest.mark.parametrize(
    "section, key, value, replaced",
    [
        ("evaluation", "combination_weights", "validation", "a combination is the mean"),
        ("evaluation", "interval_windows", 3, "the conformal intervals are fitted on"),
        ("transforms", "seasonal_window", 2, "seasonal_adjust estimates its indices"),
        ("training", "fine_tune_epochs", 5, "fine-tuning is the pretrained network's"),
        ("training", "fine_tune_learning_rate", 1e-4, "fine-tuning is the pretrained network's"),
        ("data", "fill_gaps", "ffill", r"merged into `\[data\] missing`.* Set missing = 'ffill'"),
        ("evaluation", "interval", 0.9, r"merged into `\[evaluation\] intervals`.* Put 0.9 first"),
    ],
)
def test_a_removed_key_says_what_replaced_it(tmp_path, section, key, value, replaced):
    path = tmp_path / "old.toml"
    text = recipe_path("airpassengers").read_text() + f"\n[{section}]\n{key} = {value!r}\n"
    if f"[{section}]" in recipe_path("airpassengers").read_text():
        # One table per section: add the key to the recipe's own.
        text = (
            recipe_path("airpassengers")
            .read_text()
            .replace(f"[{section}]\n", f"[{section}]\n{key} = {value!r}\n", 1)
        )
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"\[{section}\] {key} = .* was removed: {replaced}"):
        load_recipe(path)
    # Through --set too, named as the override.
    with pytest.raises(ConfigError, match=rf"{key} = .* was removed"):
        load_recipe(recipe_path("airpassengers"), [(section, key, value)])


def test_a_removed_key_at_what_kseq_does_now_is_accepted():
    # A saved run's recipe (every key written out) from before the removal still loads.
    recipe = load_recipe(recipe_path("airpassengers"))
    raw = recipe.to_dict()
    raw["evaluation"].update(combination_weights="equal", interval_windows=1)
    raw["transforms"]["seasonal_window"] = 0
    raw["training"].update(fine_tune_epochs=0, fine_tune_learning_rate=None)
    raw["data"]["fill_gaps"] = "raise"
    raw["evaluation"]["interval"] = 0.8
    assert validate(raw) == recipe
    raw["evaluation"].update(interval=0.95, intervals=[0.95])  # the same level as now
    assert validate(raw).evaluation.intervals == [0.95]
    raw["evaluation"]["interval"] = 0.8
    # A key merged into another is accepted at that key's value: the same behaviour now.
    raw["data"].update(missing="interpolate", fill_gaps="interpolate")
    assert validate(raw).data.missing == "interpolate"
    raw["data"]["fill_gaps"] = "ffill"
    with pytest.raises(ConfigError, match=r"fill_gaps = 'ffill' was removed: merged into"):
        validate(raw)


def test_seasonal_adjust_is_refused_for_a_panel():
    with pytest.raises(ConfigError, match=r"\] seasonal_adjust \(seasonal adjustment\) is built"):
        load_recipe(recipe_path("us_employment"), [("transforms", "seasonal_adjust", 12)])


def test_every_key_a_recipe_sets_reaches_the_model_or_is_an_error():
    import keras

    # The sine-study builder takes a list of widths as it is: [64, 32], not [64, 64].
    from kseq.config import validate
    from kseq.models.registry import build_model

    recipe = validate({"model": {"builder": "sine_study", "units": [64, 32]}})
    model = build_model(
        recipe.model, lookback=30, num_features=1, horizon=1, num_targets=1, seed=0, name="m"
    )
    body = model.get_layer("body")
    assert body.units == [64, 32] and body.dropout == 0.2
    keras.backend.clear_session()
    # The tutorial builder fixes its architecture: setting a part of it is an error.
    for key, value in (("units", [8]), ("head", "quantile"), ("dropout", 0.5)):
        with pytest.raises(ConfigError, match=rf"\[model\] {key} is fixed by builder"):
            load_recipe(recipe_path("airpassengers-tutorial"), [("model", key, value)])
    with pytest.raises(ConfigError, match=r"\[model\] quantiles does not apply to builder"):
        load_recipe(recipe_path("sines"), [("model", "quantiles", [0.2, 0.8])])
    # The AR(1) sequence model is not a forecast builder.
    with pytest.raises(ConfigError, match=r"builder = 'ar1' is the AR\(1\) sequence model"):
        load_recipe(recipe_path("airpassengers"), [("model", "builder", "ar1")])


def test_interval_levels_must_be_trained_quantiles():
    # A quantile head's own interval is the first of [evaluation] intervals.
    with pytest.raises(ConfigError, match=r"intervals starts with 0.9.*lacks \[0.05, 0.95\]"):
        load_recipe(
            recipe_path("airpassengers"),
            [("model", "head", "quantile"), ("evaluation", "intervals", [0.9])],
        )
    recipe = load_recipe(
        recipe_path("airpassengers"),
        [("model", "head", "quantile"), ("model", "quantiles", [0.05, 0.5, 0.95])]
        + [("evaluation", "intervals", [0.9, 0.8])],
    )
    assert recipe.evaluation.interval == 0.9
    assert recipe.evaluation.interval_levels == (0.05, 0.95)
    # No intervals: the head's quantiles are not scored, so any will do.
    recipe = load_recipe(
        recipe_path("airpassengers"),
        [("model", "head", "quantile"), ("evaluation", "intervals", [])],
    )
    assert recipe.evaluation.interval is None


def test_studies_and_recipes_cannot_be_run_as_each_other(tmp_path):
    import subprocess
    import sys

    from kseq.config import study_path

    with pytest.raises(
        ConfigError, match=r"'sine-study' is a study, not a recipe: run `kseq study"
    ):
        recipe_path("sine-study")
    with pytest.raises(
        ConfigError, match=r"'sines' is a recipe, not a study: run `kseq run sines`"
    ):
        study_path("sines")
    study = tmp_path / "mine.toml"
    study.write_text(study_path("sine-study").read_text())
    with pytest.raises(ConfigError, match=r"is a study file, not a recipe: run `kseq study"):
        load_recipe(study)
    result = subprocess.run(
        [sys.executable, "-m", "kseq.cli", "run", "sine-study"], capture_output=True, text=True
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "kseq: error: 'sine-study' is a study, not a recipe: run `kseq study sine-study`."
    ]


def test_recipe_round_trips_through_its_dict():
    from kseq.config import validate

    for name in ("airpassengers", "airpassengers-tutorial", "sines", "ar1"):
        recipe = load_recipe(recipe_path(name))
        assert validate(recipe.to_dict()) == recipe


def test_an_unknown_key_suggests_its_section_or_spelling():
    from kseq.config import validate

    with pytest.raises(ConfigError, match=r"Did you mean 'target_columns'\?"):
        validate({"data": {"source": "csv", "path": "x.csv", "target_column": "y"}})
    with pytest.raises(ConfigError, match=r"'season_length' is a key of \[evaluation\]"):
        validate({"data": {"source": "airpassengers", "season_length": 12}})
    with pytest.raises(ConfigError) as error:
        validate({"windows": {"zzz": 1}})
    assert "Did you mean" not in str(error.value) and "is a key of" not in str(error.value)


def test_a_switch_given_for_a_size_says_what_the_number_means():
    from kseq.config import validate

    with pytest.raises(
        ConfigError, match=r"series_embedding must be int; received True .* number >= 0, not true"
    ):
        validate({"data": {"source": "us_employment"}, "model": {"series_embedding": True}})


def test_a_renamed_key_is_read_with_its_new_name_and_said_once(tmp_path):
    from kseq.errors import KseqWarning

    text = recipe_path("airpassengers").read_text().replace("test_steps = 24", "horizon = 12")
    path = tmp_path / "old.toml"
    path.write_text(text)
    with pytest.warns(KseqWarning, match=r"\[evaluation\] horizon is now \[evaluation\] test_"):
        recipe = load_recipe(path)
    assert recipe.evaluation.test_steps == 12 and recipe.windows.horizon == 1
    # Set under both names to different values: which one was meant is not guessed.
    path.write_text(text.replace("horizon = 12", "horizon = 12\ntest_steps = 6"))
    with pytest.raises(ConfigError, match=r"horizon was renamed test_steps, which is set too"):
        load_recipe(path)
    # A saved run's recipe holds every key: the old one at its default says nothing.
    raw = load_recipe(recipe_path("airpassengers")).to_dict()
    raw["evaluation"]["horizon"] = raw["evaluation"].pop("test_steps")
    raw["evaluation"]["horizon"] = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert validate(raw).evaluation.test_steps == 0
