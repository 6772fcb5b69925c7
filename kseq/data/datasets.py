"""Bundled datasets, read from package data (nothing is downloaded)."""

import gzip
import hashlib
import io

import pandas as pd

from kseq._resources import resource_dir
from kseq.errors import DataError

_AIRPASSENGERS_MD5 = "167ffa96204a2b47339c21eea25baf32"


def load_airpassengers():
    """Loads the monthly international airline passengers series, 1949-01 to 1960-12.

    Box & Jenkins' series G (thousands of passengers), 144 values, in the public domain. The
    shipped file's md5 is checked on every load.

    Returns:
        A `pandas.Series` named ``"passengers"`` with a month-start `DatetimeIndex` named
        ``"month"`` (frequency ``"MS"``) and float values.
    """
    path = resource_dir("data") / "AirPassengers.csv"
    raw = path.read_bytes()
    digest = hashlib.md5(raw).hexdigest()
    if digest != _AIRPASSENGERS_MD5:
        raise DataError(
            f"{path} has md5 {digest}, expected {_AIRPASSENGERS_MD5}: the bundled file was "
            "modified; reinstall kseq."
        )
    frame = pd.read_csv(path)
    index = pd.DatetimeIndex(pd.to_datetime(frame["Month"], format="%Y-%m"), name="month")
    series = pd.Series(frame["#Passengers"].to_numpy(dtype="float64"), index=index)
    series.index.freq = "MS"
    return series.rename("passengers")


_US_EMPLOYMENT_MD5 = "a3fa7ecdc38ab517785ad7b1fa3cbf5d"  # of the uncompressed CSV


def load_us_employment(with_titles=False):
    """Loads 148 monthly US employment series (BLS CES, thousands of persons), 1939-2019.

    Ragged starts (225 to 969 points per series), public domain; shipped gzipped, and the md5
    of the uncompressed CSV is checked on every load (provenance in ``data/README.md``).

    Args:
        with_titles: also return ``{unique_id: industry title}``.

    Returns:
        A `kseq.data.Panel` (and the titles when asked).
    """
    from kseq.data.read_panel import read_panel

    path = resource_dir("data") / "us_employment.csv.gz"
    raw = gzip.decompress(path.read_bytes())
    digest = hashlib.md5(raw).hexdigest()
    if digest != _US_EMPLOYMENT_MD5:
        raise DataError(
            f"{path} unpacks to md5 {digest}, expected {_US_EMPLOYMENT_MD5}: the bundled file "
            "was modified; reinstall kseq."
        )
    frame = pd.read_csv(io.BytesIO(raw))
    panel = read_panel(frame, freq="MS")
    if not with_titles:
        return panel
    titles = frame.drop_duplicates("unique_id").set_index("unique_id")["title"].to_dict()
    return panel, titles
