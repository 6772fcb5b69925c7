"""Stage 1, load: a recipe's ``[data]`` section → `SeriesData` (validated, original units)."""

from kseq.data import load_airpassengers, make_sine, read_series
from kseq.pipeline.values import SeriesData


def load_series(data, seed=None):
    """Loads the series a ``[data]`` section names: bundled, synthetic or the user's CSV."""
    if data.source == "airpassengers":
        series = load_airpassengers()
        return SeriesData(series.index, series.to_numpy()[:, None], [series.name])
    if data.source == "sine":
        series = make_sine(data.family, num_points=data.num_points, end=data.end, seed=seed)
        return SeriesData(series.index, series.to_numpy()[:, None], [series.name])
    frame = read_series(
        data.path,
        data.time_column,
        data.target_columns,
        data.feature_columns,
        missing=data.missing,
        fill_gaps=data.fill_gaps,
    )
    return SeriesData(frame.index, frame.to_numpy(), list(frame.columns), data.num_targets)
