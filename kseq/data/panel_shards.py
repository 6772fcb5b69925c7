"""A panel stored as many files (shards), read one shard at a time.

A folder of Parquet or CSV files in the long format (``unique_id``, ``ds``, ``y``), each
holding whole series (a series never spans two files), is a panel too large to hold at once:
`read_panel_shards` reads only each file's id column (for the series' lengths, which size the
epochs), and `PanelShards.read(i)` validates and loads one shard as a `Panel` when it is
needed. `PanelShards.part(index, count)` is the share of one worker of a data-parallel job
(every `count`-th shard), so each host reads its own files only.
"""

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kseq.data.panel_file import read_panel_file, read_shard_frame
from kseq.errors import ColumnNotFoundError, DataError, EmptyDataError

SHARD_SUFFIXES = (".parquet", ".csv")


@dataclass(frozen=True)
class PanelShards:
    """The shards of a panel: their paths, the long format's columns, and each shard's
    series lengths (``lengths[i]``: ``(series in shard i,)`` int64) — the only thing held for
    every shard.

    Attributes:
        paths: shard files, in order.
        lengths: per shard, the number of rows of each of its series.
        id_column, time_column, target_column: the long format's columns.
        freq: the panel's pandas frequency, or `None` to infer it per shard.
        min_length, on_short: as in `read_panel`, applied to each shard.
    """

    paths: tuple
    lengths: tuple
    id_column: str = "unique_id"
    time_column: str = "ds"
    target_column: str = "y"
    freq: str | None = None
    min_length: int = 1
    on_short: str = "raise"

    def __len__(self):
        return len(self.paths)

    @property
    def num_series(self):
        return int(sum(len(lengths) for lengths in self.lengths))

    @property
    def num_values(self):
        return int(sum(int(lengths.sum()) for lengths in self.lengths))

    def read(self, i, *, min_series=1):
        """Shard `i` as a validated `Panel` (errors name the file and the series id);
        `min_series` as in `read_panel`."""
        path = self.paths[i]
        return read_panel_file(
            # A Parquet shard is read from its columns when well formed (`read_panel`).
            path if path.suffix == ".parquet" else read_shard_frame(path, None),
            self.id_column,
            self.time_column,
            self.target_column,
            min_length=self.min_length,
            on_short=self.on_short,
            freq=self.freq,
            name=str(self.paths[i]),
            min_series=min_series,
        )

    def part(self, index, count):
        """The shards of worker `index` of `count` (every `count`-th shard, from `index`)."""
        if not 0 <= index < count:
            raise ValueError(f"`index` must be in [0, {count}). Received: {index!r}")
        if count > len(self.paths):
            raise DataError(
                f"{count} workers share {len(self.paths)} shard(s): give each worker one file "
                "or more (split the panel into more files)."
            )
        return PanelShards(
            paths=self.paths[index::count],
            lengths=self.lengths[index::count],
            id_column=self.id_column,
            time_column=self.time_column,
            target_column=self.target_column,
            freq=self.freq,
            min_length=self.min_length,
            on_short=self.on_short,
        )


def _count_rows_per_id(path, id_column):
    """The rows of each series id of one shard (a Series indexed by id). A Parquet file's
    text ids are counted on their dictionary codes, not as one Python string per row."""
    if path.suffix == ".parquet" and importlib.util.find_spec("pyarrow") is not None:
        from kseq.data.parquet_panel import read_id_codes

        try:
            ids = read_id_codes(path, id_column)
        except ValueError as error:  # pyarrow's ArrowInvalid: no such column
            raise ColumnNotFoundError(
                f"{path}: cannot read column(s) {[id_column]}: {error}"
            ) from None
        if ids is not None:
            codes, labels = ids
            counts = np.bincount(codes, minlength=len(labels))
            return pd.Series(counts[counts > 0], index=labels[counts > 0])
    # CSV, or ids the codes cannot count (numbers, missing values): as `read_panel` reads them.
    return read_shard_frame(path, [id_column])[id_column].astype(str).value_counts(sort=False)


def read_panel_shards(
    directory,
    id_column="unique_id",
    time_column="ds",
    target_column="y",
    *,
    min_length=1,
    on_short="raise",
    freq=None,
):
    """Lists the Parquet/CSV shards of a folder and reads their id columns only.

    Raises:
        FileNotFoundError: no such folder.
        EmptyDataError: no ``.parquet`` or ``.csv`` file in it.
        DataError: a series id in two files (named, with both files).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"Panel folder {str(directory)!r} does not exist.")
    paths = tuple(
        sorted(p for p in directory.iterdir() if p.suffix in SHARD_SUFFIXES and p.is_file())
    )
    if not paths:
        raise EmptyDataError(
            f"{directory} holds no .parquet or .csv file; put the panel's shards there."
        )
    lengths, owner = [], {}
    for path in paths:
        counts = _count_rows_per_id(path, id_column)
        for sid in counts.index:
            if sid in owner:
                raise DataError(
                    f"Series {sid!r} is in two shards, {owner[sid].name} and {path.name}; "
                    "keep each series in one file."
                )
            owner[sid] = path
        lengths.append(counts.to_numpy(dtype=np.int64))
    return PanelShards(
        paths=paths,
        lengths=tuple(lengths),
        id_column=id_column,
        time_column=time_column,
        target_column=target_column,
        freq=freq,
        min_length=min_length,
        on_short=on_short,
    )


def is_panel_folder(path):
    """Whether `path` names a folder of shards (rather than one file)."""
    return isinstance(path, (str, os.PathLike)) and Path(path).is_dir()
