"""`read_panel`: one entry for a long-format panel in a file, a folder of shards or a DataFrame."""

from kseq.data.panel import concat_panels
from kseq.data.panel_file import read_panel_file
from kseq.data.panel_shards import is_panel_folder, read_panel_shards
from kseq.errors import ColumnNotFoundError, DataError, SeriesTooShortError


def read_panel(
    source,
    id_column="unique_id",
    time_column="ds",
    target_column="y",
    static_columns=(),
    *,
    min_length=1,
    on_short="raise",
    freq=None,
    name=None,
    min_series=1,
    missing="raise",
    fill_gaps="raise",
):
    """Reads and validates a long-format panel from a CSV or Parquet file, a folder of such
    files (shards, each holding whole series; see `kseq.data.read_panel_shards` to read them
    one at a time instead), or a `pandas.DataFrame`.

    Inside each series the rules of `read_series` hold: sorted dates (unsorted rows are
    sorted), no duplicate dates, no gaps and finite numbers (unless filled: `missing`,
    `fill_gaps`), one frequency for the whole panel.
    A Parquet file (or shard) that holds each series as one run of rows in date order is
    checked on its Arrow columns, without a DataFrame (`kseq.data.parquet_panel`); any other
    input, or any problem, goes through pandas, whose errors name the series and rows.
    Errors are typed (`kseq.errors`) and name the series id and the rows (row numbers count
    data rows from 0).

    Args:
        source: a CSV path or a DataFrame.
        id_column, time_column, target_column: the columns of the long format.
        static_columns: per-series constant columns kept as `Panel.static`.
        min_length: the fewest points a series needs (``lookback + horizon`` and the splits).
        on_short: ``"raise"`` (the default: an error listing the ids) or ``"skip"`` (left
            out and listed in `Panel.skipped`).
        freq: the pandas frequency; inferred from the series when `None`.
        name: what errors call the source (the path, or "the DataFrame", by default).
        min_series: the fewest series left after skipping (0: an empty panel is no error,
            as for one shard of a folder whose series are all too short).
        missing, fill_gaps: NaN in the target, and dates missing from a series' grid:
            ``"raise"``, or inserted and filled per series by ``"ffill"`` or ``"interpolate"``.

    Returns:
        A `Panel`.
    """
    if on_short not in ("raise", "skip"):
        raise ValueError(f"`on_short` must be 'raise' or 'skip'. Received: {on_short!r}")
    _check_fill(source, missing, fill_gaps)
    if is_panel_folder(source):
        shards = read_panel_shards(
            source,
            id_column,
            time_column,
            target_column,
            min_length=min_length,
            on_short=on_short,
            freq=freq,
        )
        # One shard in memory at a time, its values copied into one array sized up front.
        panel = concat_panels(
            (shards.read(i, min_series=0) for i in range(len(shards))),
            num_values=shards.num_values,
        )
        if not len(panel):
            raise SeriesTooShortError(f"{source}: no series has {min_length} points or more.")
        return panel
    return read_panel_file(
        source,
        id_column,
        time_column,
        target_column,
        static_columns,
        min_length=min_length,
        on_short=on_short,
        freq=freq,
        name=name,
        min_series=min_series,
        missing=missing,
        fill_gaps=fill_gaps,
    )


def _check_fill(source, missing, fill_gaps):
    for key, value in (("missing", missing), ("fill_gaps", fill_gaps)):
        if value not in ("raise", "ffill", "interpolate"):
            raise ValueError(
                f"`{key}` must be 'raise', 'ffill' or 'interpolate'. Received: {value!r}"
            )
    if is_panel_folder(source) and (missing != "raise" or fill_gaps != "raise"):
        raise DataError(
            f"{source}: a folder of shards is read as stored; missing= and fill_gaps= apply "
            "to one file or DataFrame. Fill the shards' NaN and gaps before reading them."
        )


def make_long_frame(frame, name, default_id):
    """`frame` with the long format's columns (``unique_id``, ``ds``, ``y``): a long frame as
    it is, a frame of ``ds`` and ``y`` as one series whose id is `default_id`. A
    `ColumnNotFoundError` naming `name` when ``ds`` or ``y`` is missing."""
    missing = [column for column in ("ds", "y") if column not in frame.columns]
    if missing:
        raise ColumnNotFoundError(
            f"{name} lacks {missing}: a long panel has columns unique_id, ds, y (one series: "
            f"ds, y). Columns found: {', '.join(map(str, frame.columns))}."
        )
    if "unique_id" not in frame.columns:
        frame = frame.assign(unique_id=default_id)
    return frame[["unique_id", "ds", "y"]]
