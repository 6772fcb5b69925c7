"""Run plots, drawn on `matplotlib.figure.Figure` (no pyplot state, no display needed)."""

import numpy as np
from matplotlib.figure import Figure

from kseq._io import save_figure_atomic


def plot_forecast(
    path,
    *,
    index,
    history,
    truth=None,
    forecast=None,
    forecast_index=None,
    one_step=None,
    interval=None,
    bands=None,
    baselines=None,
    title="",
    label="forecast",
    net=None,
):
    """Saves history (black), truth, forecasts (red) and optional intervals as a PNG.

    Args:
        path: PNG file.
        index: x positions of `history`.
        history: ``(time,)`` values before the forecast.
        truth: optional ``(steps,)`` true values at `forecast_index`.
        forecast: ``(steps,)`` multi-step forecast at `forecast_index`.
        forecast_index: x positions of the forecast.
        one_step: optional ``(steps,)`` one-step forecasts at `forecast_index`.
        interval: optional ``(low, high)`` arrays at `forecast_index` around `one_step`.
        bands: optional ``{label: (low, high)}`` intervals of `forecast`, widest drawn
            lightest.
        baselines: optional ``{name: (steps,)}`` drawn dashed.
        title: figure title.
        label: the legend's name of `forecast` (what the run chose, e.g. "chosen: ets").
        net: optional ``(steps,)`` forecast of the net, drawn beside `forecast` when the run
            chose another candidate.
    """
    zoom = forecast_index is not None and len(forecast_index) > 0
    figure = Figure(figsize=(9, 7.5 if zoom else 4.5), layout="constrained")
    axes_list = np.atleast_1d(figure.subplots(2 if zoom else 1, 1))
    for axes in axes_list:
        _draw_forecast(
            axes, index, history, truth, forecast, forecast_index, one_step, interval, baselines
        )
        if net is not None:
            axes.plot(forecast_index[: len(net)], net, color="tab:blue", linewidth=1.2,
                      linestyle="-.", label="net (kseq)")  # fmt: skip
        if forecast is not None:
            axes.plot(forecast_index[: len(forecast)], forecast, color="tab:red",
                      linewidth=1.8, label=label)  # fmt: skip
        _draw_bands(axes, forecast_index, bands or {})
    axes_list[0].set_title(title)
    axes_list[0].legend(loc="upper left", fontsize="small")
    if zoom:
        # The test period up close, with as much history again before it for context.
        context = min(len(history), 2 * len(forecast_index))
        bottom = axes_list[1]
        left = index[-context] if context else forecast_index[0]
        bottom.set_xlim(left, forecast_index[-1])
        shown = [np.asarray(history[-context:], dtype="float64")]
        shown += [
            np.asarray(v, dtype="float64")
            for v in (truth, forecast, one_step, net)
            if v is not None
        ]
        shown += [np.asarray(v, dtype="float64") for v in (interval or ())]
        shown += [np.asarray(v, dtype="float64") for band in (bands or {}).values() for v in band]
        shown = np.concatenate(shown)
        shown = shown[np.isfinite(shown)]  # an unbounded interval does not set the scale
        low, high = shown.min(), shown.max()
        pad = 0.05 * (high - low) or 1.0
        bottom.set_ylim(low - pad, high + pad)
        bottom.set_title("test period", fontsize="medium")
    return save_figure_atomic(figure, path)


def _draw_bands(axes, forecast_index, bands):
    # Narrowest last, so it is drawn darkest on top of the wider ones.
    ordered = sorted(
        bands.items(), key=lambda item: -float(np.nanmean(np.subtract(item[1][1], item[1][0])))
    )
    for rank, (label, (low, high)) in enumerate(ordered):
        axes.fill_between(
            forecast_index[: len(low)],
            low,
            high,
            color="tab:red",
            alpha=0.12 + 0.1 * rank,
            linewidth=0,
            label=label,
        )


# One colour per role, the same in both panels and in every run.
_BASELINE_COLOURS = ("tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:olive")


def _draw_forecast(
    axes, index, history, truth, forecast, forecast_index, one_step, interval, baselines
):
    axes.plot(index, history, color="black", linewidth=1.2, label="history")
    if truth is not None:
        axes.plot(
            forecast_index, truth, color="black", marker=".", linestyle=":", label="truth (test)"
        )
    if interval is not None:
        axes.fill_between(
            forecast_index,
            interval[0],
            interval[1],
            color="tab:blue",
            alpha=0.18,
            label="one-step interval",
        )
    for (name, values), colour in zip(
        (baselines or {}).items(), _BASELINE_COLOURS * 4, strict=False
    ):
        axes.plot(
            forecast_index[: len(values)],
            values,
            color=colour,
            linestyle="--",
            linewidth=1,
            label=name,
        )
    if one_step is not None:
        axes.plot(forecast_index[: len(one_step)], one_step, color="tab:blue", label="one-step")
    axes.grid(alpha=0.3)


def plot_loss(path, history, title="training loss"):
    """Saves the loss curves of a Keras `History.history` dict as a PNG (log scale when
    every loss is positive)."""
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    curves = {name: values for name, values in history.items() if name.endswith("loss")}
    for name, values in curves.items():
        axes.plot(np.arange(1, len(values) + 1), values, label=name)
    axes.set_xlabel("epoch")
    # A log scale where every loss is positive (a Gaussian or quantile loss may not be).
    if curves and all(np.all(np.asarray(v, dtype="float64") > 0) for v in curves.values()):
        axes.set_yscale("log")
    axes.set_title(title)
    axes.legend()
    axes.grid(alpha=0.3)
    return save_figure_atomic(figure, path)


def plot_scatter(path, panels, title=""):
    """Saves truth-vs-prediction scatter panels ``{label: (truth, prediction)}`` as a PNG."""
    figure = Figure(figsize=(4.5 * len(panels), 4.2))
    axes_list = np.atleast_1d(figure.subplots(1, len(panels)))
    for axes, (label, (truth, prediction)) in zip(axes_list, panels.items(), strict=True):
        truth, prediction = np.ravel(truth), np.ravel(prediction)
        axes.scatter(truth, prediction, s=2, alpha=0.3)
        high = float(max(truth.max(), prediction.max()))
        axes.plot([0, high], [0, high], color="red", linewidth=1)
        axes.set_xlabel("truth")
        axes.set_ylabel("prediction")
        axes.set_title(label)
    figure.suptitle(title)
    return save_figure_atomic(figure, path)


def plot_panel_grid(path, series, *, history=72, title=""):
    """Saves one row per series: the last `history` points, the truth and each forecast.

    Args:
        path: PNG file.
        series: ``{label: {"dates", "values", "forecast_dates", "forecasts": {name: (h,)},
            "band": (low, high)}}``; `values` covers the history and the forecast period (the
            truth); the first forecast is drawn widest, with the optional 80 % `band`.
        history: points shown before the forecasts.
        title: figure title.
    """
    figure = Figure(figsize=(9, 2.8 * len(series)))
    axes_list = np.atleast_1d(figure.subplots(len(series), 1, gridspec_kw={"hspace": 0.45}))
    colours = ("tab:red", "tab:blue", "tab:green", "tab:purple")
    for axes, (label, item) in zip(axes_list, series.items(), strict=True):
        dates, values = item["dates"], np.asarray(item["values"])
        start = item["forecast_dates"][0]
        before = dates < start
        shown = slice(max(int(before.sum()) - history, 0), None)
        axes.plot(dates[shown], values[shown], color="black", linewidth=1, label="history / truth")
        low, high = item.get("band") or (None, None)
        if low is not None and high is not None:
            axes.fill_between(item["forecast_dates"], low, high, color="tab:red", alpha=0.15,
                              linewidth=0, label="80 % interval")  # fmt: skip
        for rank, (name, forecast) in enumerate(item["forecasts"].items()):
            axes.plot(item["forecast_dates"], forecast, color=colours[rank % len(colours)],
                      linewidth=1.8 if rank == 0 else 1, label=name)  # fmt: skip
        axes.axvline(start, color="grey", linewidth=0.8, linestyle=":")
        axes.set_title(label, fontsize="small")
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", fontsize="x-small")
    figure.suptitle(title)
    return save_figure_atomic(figure, path)
