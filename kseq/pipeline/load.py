"""Stage 1, load: a recipe's ``[data]`` section → `SeriesData` (validated, original units)."""

from kseq.data import load_airpassengers, make_sine, read_series
from kseq.errors import DataError
from kseq.pipeline.values import SeriesData

# `read_series`'s advice names its arguments; a recipe user sets [data] keys instead.
_RECIPE_WORDS = {
    "pass missing='ffill' or missing='interpolate'": (
        'set [data] missing = "ffill" or "interpolate" (--set data.missing=ffill)'
    ),
    "pass fill_gaps='ffill' or fill_gaps='interpolate'": (
        'set [data] fill_gaps = "ffill" or "interpolate" (--set data.fill_gaps=ffill)'
    ),
    "or pass freq=.": 'or set [data] freq = "<pandas alias>" (--set data.freq=MS).',
}


def speak_recipe(message):
    """`message` with the library's argument names replaced by the recipe's keys."""
    for library, recipe in _RECIPE_WORDS.items():
        message = message.replace(library, recipe)
    return message


def load_series(data, seed=None):
    """Loads the series a ``[data]`` section names: bundled, synthetic or the user's CSV."""
    if data.source == "airpassengers":
        series = load_airpassengers()
        return SeriesData(series.index, series.to_numpy()[:, None], [series.name])
    if data.source == "sine":
        series = make_sine(data.family, num_points=data.num_points, end=data.end, seed=seed)
        return SeriesData(series.index, series.to_numpy()[:, None], [series.name])
    try:
        frame = read_series(
            data.path,
            data.time_column,
            data.target_columns,
            data.feature_columns,
            missing=data.missing,
            fill_gaps=data.fill_gaps,
            freq=data.freq,
        )
    except DataError as error:
        raise type(error)(speak_recipe(str(error))) from None
    return SeriesData(frame.index, frame.to_numpy(), list(frame.columns), data.num_targets)
