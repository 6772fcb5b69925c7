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
    """One row per model/baseline: MAPE per origin, the mean MAPE and the mean RMSE."""
    header = ["", *(f"MAPE {o}" for o in summary.origins), "mean MAPE", "mean RMSE"]
    rows = []
    for row, mean in summary.mean.items():
        cells = [f"{run.metrics[row]['mape']:.2f} %" for run in summary.runs]
        rows.append([row, *cells, f"{mean['mape']:.2f} %", f"{mean['rmse']:.2f}"])
    title = f"# Backtest of {summary.recipe}: {summary.length} points after each origin"
    return f"{title}\n\n{format_table(header, rows)}\n"


def format_frame(frame):
    """A Markdown table of a pandas DataFrame's columns and rows."""
    return format_table(list(frame.columns), frame.itertuples(index=False)) + "\n"
