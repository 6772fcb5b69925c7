"""Evaluation: metrics (plain functions over arrays), classical baselines, backtests, report
tables and plots.

`metrics`, `baselines` and `tables` need no Keras; `backtest` runs recipes (and so imports
Keras once the backend is chosen).
"""

from kseq.evaluation.metrics import mae, mape, mase, rmse, score, smape

__all__ = ["mae", "mape", "mase", "rmse", "score", "smape"]
