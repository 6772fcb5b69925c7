"""Markdown tables of metrics, backtests and study results (plain text, no Keras)."""

import math


def _cell(value, digits=4):
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.{digits}g}"
    return str(value)


def format_table(header, rows):
    """A Markdown table of `header` (column names) and `rows` (lists of cells)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def format_metrics(metrics):
    """Formats ``{row: {metric: value}}`` as a Markdown table."""
    if not metrics:
        return "(no test part: no metrics)"
    columns = list(next(iter(metrics.values())))
    return format_table(
        ["", *columns], [[row, *(values[c] for c in columns)] for row, values in metrics.items()]
    )


def format_backtest(summary):
    """One row per model/baseline: MAPE per origin, the mean MAPE and the mean RMSE (a
    panel's rows: mean MASE over its series per origin, their mean, and the mean sMAPE)."""
    first = next(iter(summary.mean.values()), {})
    if "mape" in first:
        main, other = ("MAPE", "{:.2f} %", "mape"), ("RMSE", "{:.2f}", "rmse")
    else:
        main, other = ("MASE", "{:.3f}", "mase"), ("sMAPE", "{:.2f} %", "smape")
    header = ["", *(f"{main[0]} {o}" for o in summary.origins)]
    header += [f"mean {main[0]}", f"mean {other[0]}"]
    rows = []
    for row, mean in summary.mean.items():
        cells = [main[1].format(run.metrics[row][main[2]]) for run in summary.runs]
        rows.append([row, *cells, main[1].format(mean[main[2]]), other[1].format(mean[other[2]])])
    title = f"# Backtest of {summary.recipe}: {summary.length} points after each origin"
    text = f"{title}\n\n{format_table(header, rows)}\n"
    if summary.partial:
        absent = ", ".join(
            f"{row} ({count} of {len(summary.runs)} origins)"
            for row, count in summary.partial.items()
        )
        text += (
            f"\nNot every origin has these rows, so they have no mean above: {absent}; their "
            "scores per origin are in backtest.json.\n"
        )
    if summary.settings:
        lines = "".join(f"- `{key}` = {why}\n" for key, why in summary.settings.items())
        text += f"\nChosen from the data, once for every origin:\n\n{lines}"
    if summary.mean_coverage:
        header = ["interval", *summary.origins, "mean"]
        rows = [
            [f"{label}, {level} %"]
            + [f"{100 * run.coverage[label][level]:.0f} %" for run in summary.runs]
            + [f"{100 * share:.1f} %"]
            for label, shares in summary.mean_coverage.items()
            for level, share in shares.items()
        ]
        text += (
            "\nEmpirical coverage of the conformal intervals (share of the points after each "
            f"origin inside them):\n\n{format_table(header, rows)}\n"
        )
    return text


def format_frame(frame):
    """A Markdown table of a pandas DataFrame's columns and rows."""
    return format_table(list(frame.columns), frame.itertuples(index=False)) + "\n"
