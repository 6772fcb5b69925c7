"""Data: bundled and synthetic series, validated user data, splits and windows.

Everything here works without Keras except `WindowDataset` and `AR1Dataset`, which are
`keras.utils.PyDataset`s and import Keras when first accessed.
"""

from kseq.data.datasets import load_airpassengers, load_us_employment
from kseq.data.panel import Panel
from kseq.data.panel_shards import PanelShards, read_panel_shards
from kseq.data.read_panel import read_panel
from kseq.data.split import Split, split_series
from kseq.data.synthetic import SINE_FAMILIES, make_ar1, make_sine
from kseq.data.validation import check_length, read_series
from kseq.data.windows import make_windows

# WindowDataset and AR1Dataset are left out of __all__ so that a star import stays Keras-free.
__all__ = [
    "SINE_FAMILIES",
    "Panel",
    "PanelShards",
    "Split",
    "check_length",
    "load_airpassengers",
    "load_us_employment",
    "make_ar1",
    "make_sine",
    "make_windows",
    "read_panel",
    "read_panel_shards",
    "read_series",
    "split_series",
]


def __getattr__(name):
    # Imported on first use so that `import kseq.data` does not import Keras.
    if name == "WindowDataset":
        from kseq.data.window_dataset import WindowDataset

        return WindowDataset
    if name == "AR1Dataset":
        from kseq.data.ar1_dataset import AR1Dataset

        return AR1Dataset
    raise AttributeError(f"module 'kseq.data' has no attribute {name!r}")
