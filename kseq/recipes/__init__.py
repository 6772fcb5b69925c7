"""Recipes: ``python -m kseq.recipes.<name>`` runs ``recipes/<name>.toml``.

Importing this package does not import Keras.
"""


def run_recipe_main(name, argv):
    """A bundled recipe's ``main``: ``kseq run <name>`` with `argv`, or with ``--protocol`` in
    it, the recipe's held-out protocol (``kseq backtest``). Returns the exit code."""
    # kseq.cli chooses the backend from --backend before anything imports Keras.
    from kseq.cli import main as kseq_main
    from kseq.evaluation.protocol import PROTOCOLS

    args = list(argv)
    if "--protocol" in args:
        args.remove("--protocol")
        return kseq_main([*PROTOCOLS[name].command(), *args])
    return kseq_main(["run", name, *args])
