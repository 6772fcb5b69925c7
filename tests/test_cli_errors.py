"""Bad input on the command line: exit status 2, one ``kseq: error:`` line naming the option,
column, row or section and what to do; never a traceback, never a silent wrong result.

Every case runs `python -m kseq.cli` in a fresh process, from a folder other than the
recipe's (a relative ``data.path`` resolves from the recipe's folder). Data errors are found
before the backend is imported, so most cases take a second."""

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

CLI = [sys.executable, "-m", "kseq.cli"]


def _write_series(path, values, start="2015-01-01", freq="MS"):
    dates = pd.date_range(start, periods=len(values), freq=freq)
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "y": values}).to_csv(path, index=False)


def _write_recipe(folder, csv="data.csv", extra=""):
    # The data path is relative: it is resolved from the recipe's own folder.
    text = f"""
[recipe]
name = "case"

[data]
source = "csv"
path = "{csv}"
time_column = "date"
target_columns = ["y"]

[split]
test = 12
validation = 6

[windows]
lookback = 6

[model]
units = [4]

[training]
epochs = 1
{extra}
"""
    path = folder / "case.toml"
    path.write_text(text)
    return path


@pytest.fixture
def folder(tmp_path):
    values = 100 + 10 * np.sin(np.arange(60) / 3)
    _write_series(tmp_path / "data.csv", values)
    (tmp_path / "elsewhere").mkdir()
    return tmp_path


def _cli(folder, argv):
    # From a sibling folder: outputs/ stays in the test's folder, and relative paths in a
    # recipe must not depend on the current directory.
    return subprocess.run(
        [*CLI, *argv], capture_output=True, text=True, cwd=folder / "elsewhere", timeout=600
    )


def _errors(folder, argv):
    result = _cli(folder, argv)
    lines = [line for line in result.stderr.splitlines() if line.startswith("kseq: error:")]
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_missing_value_names_the_row_and_the_setting(folder):
    frame = pd.read_csv(folder / "data.csv")
    frame.loc[7, "y"] = np.nan
    frame.to_csv(folder / "data.csv", index=False)
    line = _errors(folder, ["run", str(_write_recipe(folder))])
    assert "Column 'y'" in line and "1 missing values (at 2015-08-01" in line
    assert "--set data.missing=ffill" in line


def test_a_ragged_csv_names_the_line(folder):
    with open(folder / "data.csv", "a") as f:
        f.write("2020-01-01,1.0,extra\n")
    line = _errors(folder, ["run", str(_write_recipe(folder))])
    assert "not a well-formed CSV" in line and "line 62" in line


def test_a_missing_file_names_it(folder):
    line = _errors(folder, ["run", str(_write_recipe(folder, csv="nowhere.csv"))])
    assert "nowhere.csv" in line


def test_a_missing_related_file_names_the_key(folder):
    # Found by the data check before the backend's import, like the series' own file.
    recipe = _write_recipe(folder, extra='\n[evaluation]\nbaselines = ["naive"]\n')
    line = _errors(folder, ["run", str(recipe), "--set", "data.related='nope.csv'"])
    assert "[data] related = 'nope.csv': the file does not exist" in line


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("split.test='2030-01'", "[split] test = '2030-01' starts after the last point"),
        ("split.test=100", "too few for a test part of 100"),
        ("model.dropout=1.5", "[model] dropout must be in [0.0, 1.0); received 1.5"),
        ("windows.lookback=0", "[windows] lookback must be >= 1; received 0"),
        # 60 months, test 12, validation 6: 42 to train on; the horizon is inferred as 6.
        (
            "windows.lookback=40",
            "training part has 42 points; one window needs [windows] lookback 40 + horizon 6 = 46",
        ),
        (
            "transforms.seasonal_adjust=24",
            "training part has 42 points; [transforms] seasonal_adjust = 24 estimates its "
            "seasonal indices from at least two seasons (48 points)",
        ),
        ("data.freq='XYZ'", "[data] freq = 'XYZ' is not a pandas frequency alias"),
        ("training.epochs=0", "[training] epochs must be >= 1; received 0"),
        ("model.units=[-4]", "[model] units must be >= 1; received -4"),
        ("evaluation.season_length=-12", "[evaluation] season_length must be >= 1; received -12"),
    ],
)
def test_a_bad_recipe_value_names_the_section(folder, override, expected):
    line = _errors(folder, ["run", str(_write_recipe(folder)), "--set", override])
    assert expected in line
    if override.startswith("split"):
        assert "--set split.test=" in line


def test_a_log_of_zeros_says_how_to_turn_it_off(folder):
    values = np.abs(100 * np.sin(np.arange(60) / 3)).round()
    values[10] = 0.0
    _write_series(folder / "data.csv", values)
    recipe = _write_recipe(folder, extra="\n[transforms]\nlog = true\n")
    line = _errors(folder, ["run", str(recipe)])
    assert "[transforms] log = true needs positive values" in line
    assert "minimum 0" in line and "--set transforms.log=false" in line


def test_out_naming_a_file(folder):
    (folder / "elsewhere" / "afile").write_text("")
    line = _errors(folder, ["run", str(_write_recipe(folder)), "--out", "afile"])
    assert "--out afile is a file" in line
    line = _errors(folder, ["forecast", "somewhere", "--horizon", "3", "--out", str(folder)])
    assert "is a folder" in line


def test_bad_toml_and_unknown_keys(folder):
    (folder / "bad.toml").write_text("[recipe\nname = 1\n")
    assert "is not valid TOML" in _errors(folder, ["run", str(folder / "bad.toml")])
    recipe = _write_recipe(folder, extra="\n[model]\nunits = [4]\n")
    assert "case.toml" in _errors(folder, ["run", str(recipe)])
    line = _errors(folder, ["run", str(_write_recipe(folder)), "--set", "model.unitz=[4]"])
    assert "unitz" in line
    (folder / "dir.toml").mkdir()
    assert "is a folder, not a file" in _errors(folder, ["run", str(folder / "dir.toml")])
    # A folder named like a bundled recipe (say, an earlier `--out airpassengers`) in the
    # current directory is no recipe: the name still means the bundled one.
    (folder / "elsewhere" / "airpassengers").mkdir()
    line = _errors(folder, ["run", "airpassengers", "--set", "training.epochs=0"])
    assert "epochs" in line and "folder" not in line, line


def test_forecast_of_a_missing_or_edited_run(folder):
    line = _errors(folder, ["forecast", str(folder / "no-run"), "--horizon", "3"])
    assert "no-run" in line
    assert "--horizon must be a positive" in _errors(
        folder, ["forecast", str(folder), "--horizon", "0"]
    )
    from kseq.forecaster import Forecaster
    from kseq.models import build_forecaster
    from kseq.training_config import TrainingConfig
    from kseq.transforms import MinMaxScale, TransformPipeline

    values = pd.read_csv(folder / "data.csv")["y"].to_numpy()[:, None]
    forecaster = Forecaster(
        build_forecaster(6, units=[4]),
        lookback=6,
        transforms=TransformPipeline([MinMaxScale((-1, 1))]),
    )
    forecaster.fit(values, training=TrainingConfig(epochs=1, verbose=0))
    saved = forecaster.save(folder / "run" / "forecaster")
    body = json.loads((saved / "forecaster.json").read_text())
    body["state"]["lookback"] = 7
    (saved / "forecaster.json").write_text(json.dumps(body))
    line = _errors(folder, ["forecast", str(folder / "run"), "--horizon", "3"])
    assert "was changed after it was saved" in line
    assert "`kseq run RECIPE --out DIR --overwrite` saves a run's forecaster" in line


def test_a_bad_date_names_the_row(folder):
    frame = pd.read_csv(folder / "data.csv")
    frame.loc[3, "date"] = "not a date"
    frame.to_csv(folder / "data.csv", index=False)
    assert "data row 3: 'not a date'" in _errors(folder, ["run", str(_write_recipe(folder))])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "RECIPE", "--epochs", "0"], "--epochs must be >= 1; received 0"),
        (["forecast", "RUN", "--horizon", "-5"], "--horizon must be a positive number of steps"),
        (["run", "RECIPE", "--set", "nosection"], "--set"),
    ],
)
def test_bad_options_are_named(folder, argv, expected):
    argv = [str(_write_recipe(folder)) if a == "RECIPE" else a for a in argv]
    argv = [str(folder) if a == "RUN" else a for a in argv]
    assert expected in _errors(folder, argv)


def _run_card(folder, values, dates=None, extra=""):
    frame = pd.DataFrame({"date": dates, "y": values})
    frame.to_csv(folder / "data.csv", index=False)
    recipe = _write_recipe(folder, extra=extra)
    result = _cli(folder, ["run", str(recipe), "--quiet", "--out", "run", "--overwrite"])
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    card = json.loads((folder / "elsewhere" / "run" / "run_card.json").read_text())
    return card, result


def test_integer_years_and_dst_offsets_are_read(folder):
    years = np.arange(1950, 2010)
    card, _ = _run_card(folder, 50 + np.arange(60.0) % 7, dates=years)
    assert card["metrics"]
    test = pd.read_csv(folder / "elsewhere" / "run" / "forecasts.csv")
    assert str(test["ds"].iloc[0]).startswith("1998")  # the last 12 whole years
    # Daily points at local midnight across the March DST change: two UTC offsets.
    local = pd.date_range("2021-02-01", periods=60, freq="D", tz="Europe/Berlin")
    dates = [t.isoformat() for t in local]
    assert {d[-6:] for d in dates} == {"+01:00", "+02:00"}
    card, result = _run_card(folder, 100 + np.arange(60.0) % 5, dates=dates)
    assert "kept the local times as written, which form a regular 'D' grid" in result.stderr
    test = pd.read_csv(folder / "elsewhere" / "run" / "forecasts.csv")
    assert list(test["ds"]) == [f"2021-03-{day:02d}" for day in range(21, 32)] + ["2021-04-01"]


def test_a_constant_series_reports_null_mase_and_why(folder):
    card, result = _run_card(
        folder,
        np.full(60, 5.0),
        dates=pd.date_range("2015-01-01", periods=60, freq="MS").strftime("%Y-%m"),
        extra="\n[evaluation]\nseason_length = 12\nbaselines = ['naive', 'sarima']\n",
    )
    text = (folder / "elsewhere" / "run" / "run_card.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert card["metrics"]["naive (one-step)"]["mase"] is None
    assert card["metrics"]["naive (one-step)"]["mae"] == 0.0
    assert any(note.startswith("MASE is null") for note in card["notes"])
    assert "Note: MASE is null" in result.stdout


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--storage", "garbage"], "--storage 'garbage' is not a database URL"),
        (["--storage", "nope://x"], "--storage 'nope://x' is not a database URL"),
        (
            ["--storage", "sqlite:////no/such/folder/study.db"],
            "cannot connect (unable to open database file); check that its folder exists",
        ),
        (["--workers", "0"], "--workers must be >= 1; received 0"),
    ],
)
def test_a_study_storage_that_cannot_serve_is_named_before_any_trial(folder, argv, expected):
    pytest.importorskip("optuna")
    study = folder / "study.toml"
    study.write_text(
        f'[study]\nname = "s"\nrecipe = "{_write_recipe(folder)}"\n'
        'objective = "validation.recursive.mape"\ntrials = 1\n[space]\n"windows.lookback" = [4]\n'
    )
    assert expected in _errors(folder, ["study", str(study), "--out", str(folder / "o"), *argv])
    assert not (folder / "o" / "trials").exists()


def test_a_storage_error_hides_the_password():
    pytest.importorskip("optuna")
    pytest.importorskip("psycopg")
    from kseq.errors import ConfigError
    from kseq.study.worker import check_storage

    # Port 1 refuses at once: no server listens there.
    with pytest.raises(
        ConfigError, match=r"'postgresql://u:\*\*\*@127.0.0.1:1/db': cannot"
    ) as info:
        check_storage("postgresql://u:secret@127.0.0.1:1/db")
    assert "secret" not in str(info.value)


def test_forecasts_past_the_horizon_with_feature_columns_are_refused_before_training(folder):
    frame = pd.read_csv(folder / "data.csv")
    frame["x"] = np.arange(len(frame)) % 7  # a feature with zeros: no log is inferred
    frame.to_csv(folder / "data.csv", index=False)
    recipe = _write_recipe(folder, extra='\n[evaluation]\nbaselines = ["naive"]\n')
    text = recipe.read_text().replace(
        'target_columns = ["y"]', 'target_columns = ["y"]\nfeature_columns = ["x"]'
    )
    recipe.write_text(text)
    line = _errors(folder, ["run", str(recipe), "--set", "windows.horizon=3"])
    assert "the test part) asks for 12 steps, past the net's [windows] horizon = 3" in line
    assert "feature columns ['x'] are not forecast" in line
    argv = ["--set", "windows.horizon=12", "--set", "evaluation.forecast_steps=30"]
    line = _errors(folder, ["run", str(recipe), *argv])
    assert "[evaluation] forecast_steps asks for 30 steps" in line


def test_resume_with_nothing_to_resume_says_so(folder):
    recipe = _write_recipe(folder, extra='\n[evaluation]\nbaselines = ["naive"]\n')
    result = _cli(
        folder, ["run", str(recipe), "--out", str(folder / "typo"), "--resume", "--quiet"]
    )
    assert result.returncode == 0, result.stderr
    assert "kseq: warning: nothing to resume in" in result.stderr
    assert "starting a fresh run" in result.stderr


def test_a_study_trial_the_data_refuse_names_the_trial_in_one_line(folder):
    pytest.importorskip("optuna")
    study = folder / "study.toml"
    study.write_text(
        f'[study]\nname = "s"\nrecipe = "{_write_recipe(folder)}"\n'
        'objective = "validation.recursive.mape"\ntrials = 1\n[space]\n"windows.lookback" = [200]\n'
    )
    line = _errors(folder, ["study", str(study), "--out", str(folder / "o")])
    assert "Trial 0 (windows.lookback = 200): The training part has" in line


def test_backtest_refuses_a_zero_length_and_a_repeated_origin(folder):
    line = _errors(folder, ["backtest", "airpassengers", "--origins", "1958-01", "--length", "0"])
    assert "--length must be >= 1" in line
    line = _errors(folder, ["backtest", "airpassengers", "--origins", "1958-01", "1958-01"])
    assert "1958-01 more than once" in line


def test_an_unknown_option_shows_the_subcommands_usage(folder):
    result = _cli(folder, ["forecast", "somewhere", "--horizon", "3", "--bogus"])
    assert result.returncode == 2
    assert "usage: kseq forecast" in result.stderr
    assert "unrecognized arguments: --bogus" in result.stderr


def test_the_help_has_no_raw_markup(folder):
    result = _cli(folder, ["--help"])
    assert result.returncode == 0 and "``" not in result.stdout


def test_a_run_never_mixes_its_files_with_an_earlier_run_s(folder):
    recipe = _write_recipe(folder, extra='\n[evaluation]\nbaselines = ["naive"]\n')
    out = folder / "out"
    out.mkdir()
    (out / "metrics.json").write_text("{}")  # an earlier run's file this run would not write
    (out / "checkpoints").mkdir()  # an interrupted run's checkpoints
    line = _errors(folder, ["run", str(recipe), "--out", str(out), "--quiet"])
    assert "already holds files" in line and "--overwrite" in line and "--resume" in line
    assert (out / "checkpoints").is_dir() and (out / "metrics.json").read_text() == "{}"
    result = _cli(folder, ["run", str(recipe), "--out", str(out), "--quiet", "--overwrite"])
    assert result.returncode == 0, result.stderr
    # Only this run's files: the old ones are gone, not left beside the new.
    assert (out / "run_card.json").is_file() and not (out / "checkpoints").exists()
    card = json.loads((out / "run_card.json").read_text())
    written = {p.name for p in out.iterdir()}
    assert "metrics.json" not in written or "metrics.json" in card.get("outputs", [])
    # A finished run has nothing to resume: said, and left as it is.
    before = (out / "run_card.json").read_text()
    result = _cli(folder, ["run", str(recipe), "--out", str(out), "--quiet", "--resume"])
    assert result.returncode == 0, result.stderr
    assert "holds a finished run: nothing to resume" in result.stderr
    assert (out / "run_card.json").read_text() == before
    # A folder of someone else's files is never emptied.
    other = folder / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("mine")
    line = _errors(folder, ["run", str(recipe), "--out", str(other), "--overwrite"])
    assert "files kseq did not write (todo.txt)" in line
    assert (other / "todo.txt").read_text() == "mine"
    line = _errors(folder, ["backtest", str(recipe), "--origins", "10", "--out", str(other)])
    assert "already holds files" in line


def test_a_forecast_names_what_cannot_be_trusted_and_what_cannot_be_done(folder):
    # 36 months: test 12 and validation 6 leave 18 training points.
    _write_series(folder / "data.csv", 100 + 10 * np.sin(np.arange(36) / 3))
    recipe = _write_recipe(folder, extra='\n[evaluation]\nbaselines = ["naive"]\n')
    run = folder / "run"
    result = _cli(folder, ["run", str(recipe), "--out", str(run), "--quiet"])
    assert result.returncode == 0, result.stderr
    card = json.loads((run / "run_card.json").read_text())
    # Windows of lookback + horizon points after the differences' lags, as the card says.
    config = card["config"]
    lags = sum(config["transforms"]["difference"])
    windows = 18 - lags - config["windows"]["lookback"] - config["windows"]["horizon"] + 1
    assert f"kseq: warning: the net trained on {windows} window(s) only" in result.stderr
    assert any(f"{windows} window(s)" in note for note in card["notes"])
    # No --horizon: the 12 steps the run was tested on.
    result = _cli(folder, ["forecast", str(run)])
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1 + 12
    # Far past the tested steps: said; past pandas' calendar: refused in one line.
    result = _cli(folder, ["forecast", str(run), "--horizon", "30"])
    assert result.returncode == 0, result.stderr
    assert "more than 2 times the 12 steps this run was tested on" in result.stderr
    # The intervals were calibrated for 12 steps ahead: none past them.
    future = pd.read_csv(io.StringIO(result.stdout))
    assert future["chosen-lo-80"].notna().sum() == 12 and len(future) == 30
    line = _errors(folder, ["forecast", str(run), "--horizon", "100000"])
    assert "the last date pandas can hold" in line
    # A newer CSV with a NaN: the advice is what a forecast can do, not a --set it refuses.
    frame = pd.read_csv(folder / "data.csv")
    frame.loc[30, "y"] = np.nan
    frame.to_csv(folder / "newer.csv", index=False)
    line = _errors(folder, ["forecast", str(run), "--csv", str(folder / "newer.csv")])
    assert "fill them in the file" in line and "--set" not in line


def test_a_recipe_value_is_checked_where_it_was_written(folder):
    recipe = _write_recipe(folder)
    recipe.write_text(recipe.read_text().replace("epochs = 1", 'epochs = "ten"'))
    # --epochs replaces the value, yet the file's own value is wrong and named.
    line = _errors(folder, ["run", str(recipe), "--epochs", "2"])
    assert f"{recipe}: [training] epochs must be int; received 'ten'" in line
    line = _errors(folder, ["run", str(_write_recipe(folder)), "--set", "training.epocs=3"])
    assert line.startswith("kseq: error: --set: unknown key 'epocs' in [training]")
    assert "Did you mean 'epochs'?" in line
    line = _errors(folder, ["backtest", str(recipe), "--origins", "40", "--epochs", "0"])
    assert "--epochs must be >= 1" in line
