"""forecast.png shows what the run chose, with its interval band, and the net beside it."""

import numpy as np
import pandas as pd

from kseq.evaluation import plots


def _legends(monkeypatch, draw):
    figures = []
    monkeypatch.setattr(plots, "save_figure_atomic", lambda figure, path: figures.append(figure))
    draw()
    (figure,) = figures
    return [
        [text.get_text() for text in axes.get_legend().get_texts()]
        for axes in figure.axes
        if axes.get_legend() is not None
    ]


def test_a_single_series_plot_labels_the_choice_its_band_and_the_net(monkeypatch, tmp_path):
    index = pd.date_range("2000-01-01", periods=30, freq="MS")
    future = pd.date_range("2002-07-01", periods=6, freq="MS")
    chosen = np.linspace(1, 2, 6)
    legends = _legends(
        monkeypatch,
        lambda: plots.plot_forecast(
            tmp_path / "f.png",
            index=index,
            history=np.arange(30.0),
            forecast=chosen,
            forecast_index=future,
            bands={"80 % interval": (chosen - 1, chosen + 1)},
            label="chosen: ets",
            net=chosen + 3,
        ),
    )
    assert {"chosen: ets", "net (kseq)", "80 % interval"} <= set(legends[0])


def test_a_panel_plot_draws_the_chosen_forecast_first_with_its_band(monkeypatch, tmp_path):
    dates = pd.date_range("2000-01-01", periods=20, freq="QS")
    item = {
        "dates": dates,
        "values": np.arange(20.0),
        "forecast_dates": dates[-4:],
        "forecasts": {"chosen": np.ones(4), "kseq": np.zeros(4), "ets": np.ones(4)},
        "band": (np.zeros(4), np.full(4, 2.0)),
    }
    legends = _legends(
        monkeypatch, lambda: plots.plot_panel_grid(tmp_path / "p.png", {"best: a": item})
    )
    assert legends[0][0] == "history / truth" and legends[0][1] == "80 % interval"
    assert legends[0][2:] == ["chosen", "kseq", "ets"]
