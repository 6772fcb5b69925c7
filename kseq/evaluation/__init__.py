"""Evaluation: metrics (plain functions over arrays), classical baselines, the validation
choice, intervals, report tables and plots (backtests run recipes: `kseq.pipeline.backtest`).

`metrics`, `baselines` and `tables` need no Keras.
"""

from kseq.evaluation.metrics import mae, mape, mase, rmse, score, smape

__all__ = ["mae", "mape", "mase", "rmse", "score", "smape"]
