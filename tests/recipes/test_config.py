import pytest

from kseq.errors import ConfigError
from kseq.recipes.config import load_recipe, parse_override, recipe_path


def write(tmp_path, text):
    path = tmp_path / "recipe.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["airpassengers", "airpassengers-tutorial", "sines", "ar1"])
def test_bundled_recipes_are_valid(name):
    config = load_recipe(recipe_path(name))
    assert config["recipe"]["name"] == name


def test_defaults_and_overrides(tmp_path):
    config = load_recipe(
        write(tmp_path, "[windows]\nlookback = 24\n"),
        [("training", "epochs", 3), parse_override("model.units=[4, 4]")],
    )
    assert config["windows"]["lookback"] == 24 and config["windows"]["horizon"] == 1
    assert config["training"]["epochs"] == 3 and config["model"]["units"] == [4, 4]
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
    with pytest.raises(
        ConfigError,
        match="No bundled recipe .airpasengers.; bundled: airpassengers, airpassengers-study, airpassengers-tutorial, ar1, sine-study, sines",
    ):
        recipe_path("airpasengers")
