"""Recipes: ``python -m kseq.recipes.<name>`` runs ``recipes/<name>.toml``.

Importing this package does not import Keras.
"""
