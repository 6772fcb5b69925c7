"""Runs the bundled ``airpassengers`` recipe, or its held-out protocol.

Usage: ``python -m kseq.recipes.airpassengers [--backend jax] [--epochs N]``, or
``python -m kseq.recipes.airpassengers --protocol [--backend jax] [--out DIR]`` for the
quality protocol's backtest (five origins 1955-01 … 1957-01, 24 months each; it never reaches
1959, the test years; `kseq.evaluation.protocol.AIRPASSENGERS_PROTOCOL`).

The recipe itself is ``recipes/airpassengers.toml``; any ``kseq run`` (or, with
``--protocol``, ``kseq backtest``) flag works here too.
"""

import sys


def main(argv=None):
    from kseq.recipes import run_recipe_main

    return run_recipe_main("airpassengers", sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
