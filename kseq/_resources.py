"""Locating the files kseq ships: ``data/`` and ``recipes/``.

In a wheel they live inside the package as ``kseq/_data`` and ``kseq/_recipes``; in a source
checkout (or an editable install) they are the top-level ``data/`` and ``recipes/`` folders.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_FOLDERS = {"data": "_data", "recipes": "_recipes", "studies": "_studies"}


def resource_dir(kind):
    """Returns the folder of shipped ``"data"``, ``"recipes"`` or ``"studies"``."""
    installed = _PACKAGE / _FOLDERS[kind]
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / kind
