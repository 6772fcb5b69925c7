"""Runs the bundled ``sines`` recipe, or its held-out protocol.

Usage: ``python -m kseq.recipes.sines [--backend jax] [--epochs N]``, or
``python -m kseq.recipes.sines --protocol [--backend jax] [--out DIR]`` for the protocol's
backtest (10 points from positions 40, 50 and 60; it never reaches position 70, where the
recipe's test part begins; `kseq.evaluation.protocol.SINES_PROTOCOL`).

The recipe itself is ``recipes/sines.toml``; any ``kseq run`` (or, with ``--protocol``,
``kseq backtest``) flag works here too.
"""

import sys


def main(argv=None):
    from kseq.recipes import run_recipe_main

    return run_recipe_main("sines", sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
