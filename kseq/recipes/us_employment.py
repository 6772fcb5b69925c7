"""Runs the bundled ``us_employment`` panel recipe: one global model for 148 series.

Usage: ``python -m kseq.recipes.us_employment [--backend jax] [--epochs N]``.

The recipe itself is ``recipes/us_employment.toml``; any ``kseq run`` flag works here too.
"""

import sys


def main(argv=None):
    # kseq.cli chooses the backend from --backend before anything imports Keras.
    from kseq.cli import main as kseq_main

    return kseq_main(["run", "us_employment", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
