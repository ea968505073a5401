"""Two settings' stability compared on the split seeds they share, each split seed left out of
both at once: the paired difference the Pareto front and `ebm-study-promote --pareto` read."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ebm_study.measures import by_split, redundancy, stability
from ebm_study.settings import StudySettings
from ebm_study.tracking.tags import CONFIG_KEY


def stability_difference(
    scores: pd.DataFrame,
    importances: pd.DataFrame,
    runs: pd.DataFrame,
    settings: StudySettings,
    C: np.ndarray | None,
) -> Callable[[str, str], stability.Estimate]:
    """(a, b) -> setting a's stability (the objective, each on its own terms) minus b's, on
    the split seeds both have, each left out of both at once (by_split.difference)."""

    def parts(key: str, common: list) -> by_split.Parts:
        members = runs.index[(runs[CONFIG_KEY] == key) & runs["split_seed"].isin(common)]
        own = set(importances.loc[importances["run_id"].isin(members), "term"])
        columns = [c for c in scores.columns if c in own]
        Z = stability.top_k(scores.loc[members, columns].to_numpy(float), settings.top_k)
        design = by_split.Design.of(runs.loc[members, "split_seed"].tolist())
        if settings.objective == "nogueira_corr" and C is not None:
            return by_split.nogueira_corr_parts(
                Z, redundancy.sub_matrix(C, scores.columns, columns), design
            )
        return by_split.nogueira_parts(Z, design)

    def difference(a: str, b: str) -> stability.Estimate:
        if "split_seed" not in runs:
            return stability.Estimate.undefined("no split seeds to pair by")
        seeds = runs.dropna(subset=["split_seed"]).groupby(CONFIG_KEY)["split_seed"].agg(set)
        common = sorted(seeds.get(a, set()) & seeds.get(b, set()), key=str)
        if len(common) < 2:
            return stability.Estimate.undefined(f"{len(common)} split seeds in common")
        return by_split.difference(parts(a, common), parts(b, common))

    return difference
