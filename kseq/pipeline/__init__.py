"""The staged run of a recipe: load → split → transform → window/build/fit → evaluate →
report/save, each stage a small function with typed inputs and outputs
(`kseq.pipeline.values`), ending in a `RunCard`. See docs/architecture.md.

`run_recipe` lives in `kseq.pipeline.run` (it imports Keras: choose the backend first).
"""
