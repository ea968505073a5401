"""Build and fit the ExplainableBoostingClassifier the config describes."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
from interpret.glassbox import ExplainableBoostingClassifier
from omegaconf import DictConfig, OmegaConf


def build(model_cfg: DictConfig) -> ExplainableBoostingClassifier:
    """An unfitted EBM with every hyperparameter of the `model` config group."""
    params: dict[str, Any] = OmegaConf.to_container(model_cfg, resolve=True)
    return ExplainableBoostingClassifier(**params)


def fit(
    ebm: ExplainableBoostingClassifier, X: pd.DataFrame, y: pd.Series
) -> tuple[ExplainableBoostingClassifier, float]:
    """Fit in place and return the model with the wall-clock seconds the fit took."""
    start = time.perf_counter()
    ebm.fit(X, y)
    return ebm, time.perf_counter() - start
