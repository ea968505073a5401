"""The metrics a run logs, by task, which one sums a run up, and which way each is better: the
vocabulary `settings` checks `study.metric` against and `fit/metrics.py` computes."""

from __future__ import annotations

# The score a run is summed up by (the study's mean_<score>, promotion's default, what a sweep
# job returns to an optimising sweeper): F1 for a classifier; for a regressor R2, which, unlike
# RMSE, compares across split seeds whose test rows vary in spread.
SCORE = {"classification": "f1", "regression": "r2"}
LOWER_IS_BETTER = frozenset({"rmse", "mae", "log_loss"})  # the losses among our metrics
NAMES = {
    "classification": (
        *("accuracy", "f1", "precision", "recall", "roc_auc", "average_precision", "log_loss"),
    ),
    "regression": ("rmse", "mae", "r2"),
}


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of this metric is better: the losses."""
    return metric in LOWER_IS_BETTER
