"""Bad input on the command line: exit status 2, one ``kseq: error:`` line naming the option,
column, row or section and what to do; never a traceback, never a silent wrong result."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kseq.cli import main as cli_main

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
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outputs/ of any run stays inside the test's folder
    values = 100 + 10 * np.sin(np.arange(60) / 3)
    _write_series(tmp_path / "data.csv", values)
    return tmp_path


def _errors(capsys, argv):
    status = cli_main(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("kseq: error:")]
    assert "Traceback" not in captured.err
    assert status == 2, captured.err
    assert len(lines) == 1, captured.err
    return lines[0]


def test_a_missing_value_names_the_row_and_the_setting(folder, capsys):
    frame = pd.read_csv(folder / "data.csv")
    frame.loc[7, "y"] = np.nan
    frame.to_csv(folder / "data.csv", index=False)
    line = _errors(capsys, ["run", str(_write_recipe(folder))])
    assert "Column 'y'" in line and "1 missing values (at 2015-08-01" in line
    assert "--set data.missing=ffill" in line


def test_a_ragged_csv_names_the_line(folder, capsys):
    with open(folder / "data.csv", "a") as f:
        f.write("2020-01-01,1.0,extra\n")
    line = _errors(capsys, ["run", str(_write_recipe(folder))])
    assert "not a well-formed CSV" in line and "line 62" in line


def test_a_missing_file_names_it(folder, capsys):
    line = _errors(capsys, ["run", str(_write_recipe(folder, csv="nowhere.csv"))])
    assert "nowhere.csv" in line


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("split.test='2030-01'", "[split] test = '2030-01' starts after the last point"),
        ("split.test=100", "too few for a test part of 100"),
        ("model.dropout=1.5", "[model] dropout must be in [0.0, 1.0); received 1.5"),
        ("windows.lookback=0", "[windows] lookback must be >= 1; received 0"),
        ("training.epochs=0", "[training] epochs must be >= 1; received 0"),
    ],
)
def test_a_bad_recipe_value_names_the_section(folder, capsys, override, expected):
    line = _errors(capsys, ["run", str(_write_recipe(folder)), "--set", override])
    assert expected in line
    if override.startswith("split"):
        assert "--set split.test=" in line


def test_a_log_of_zeros_says_how_to_turn_it_off(folder, capsys):
    values = np.abs(100 * np.sin(np.arange(60) / 3)).round()
    values[10] = 0.0
    _write_series(folder / "data.csv", values)
    recipe = _write_recipe(folder, extra="\n[transforms]\nlog = true\n")
    line = _errors(capsys, ["run", str(recipe)])
    assert "[transforms] log = true needs positive values" in line
    assert "minimum 0" in line and "--set transforms.log=false" in line


def test_out_naming_a_file(folder, capsys):
    (folder / "afile").write_text("")
    line = _errors(capsys, ["run", str(_write_recipe(folder)), "--out", "afile"])
    assert "--out afile is a file" in line
    line = _errors(capsys, ["forecast", "somewhere", "--horizon", "3", "--out", str(folder)])
    assert "is a folder" in line


def test_bad_toml_and_unknown_keys(folder, capsys):
    (folder / "bad.toml").write_text("[recipe\nname = 1\n")
    assert "is not valid TOML" in _errors(capsys, ["run", str(folder / "bad.toml")])
    recipe = _write_recipe(folder, extra="\n[model]\nunits = [4]\n")
    assert "case.toml" in _errors(capsys, ["run", str(recipe)])
    line = _errors(capsys, ["run", str(_write_recipe(folder)), "--set", "model.unitz=[4]"])
    assert "unitz" in line


def test_forecast_of_a_missing_or_edited_run(folder, capsys):
    line = _errors(capsys, ["forecast", str(folder / "no-run"), "--horizon", "3"])
    assert "no-run" in line
    assert "--horizon must be a positive" in _errors(
        capsys, ["forecast", str(folder), "--horizon", "0"]
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
    line = _errors(capsys, ["forecast", str(folder / "run"), "--horizon", "3"])
    assert "was changed after it was saved" in line


def test_the_real_entry_point_prints_one_line_and_exits_2(folder):
    # In a fresh process, through `python -m kseq.cli`: no traceback reaches the user.
    frame = pd.read_csv(folder / "data.csv")
    frame.loc[3, "date"] = "not a date"
    frame.to_csv(folder / "data.csv", index=False)
    result = subprocess.run(
        [*CLI, "run", str(_write_recipe(folder))], capture_output=True, text=True, cwd=folder
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("kseq: error:")]
    assert len(errors) == 1 and "row 3: 'not a date'" in errors[0], result.stderr
