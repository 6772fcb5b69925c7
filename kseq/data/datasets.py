"""Bundled datasets, read from package data (nothing is downloaded)."""

import hashlib

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
