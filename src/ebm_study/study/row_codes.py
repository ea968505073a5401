"""For `ebm-study-predict --reasons N`: how often each reason a model gives a row is among the
row's top N across the other runs of the model's setting in its sweep (study/rows.py scores
them, on the user's rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ebm_study.measures import rows as measures
from ebm_study.measures.by_split import Design
from ebm_study.study.groups import whole_split_seeds
from ebm_study.study.reference import load_models
from ebm_study.study.rows import score_runs
from ebm_study.tracking import sweeps, tags


def sweep_of(run_id: str | None, version: dict[str, str]) -> tuple[str | None, str | None]:
    """The sweep (parent run id) and setting (config_key) a model came from: its registered
    version's tags (a champion, a consensus model), else its run's (a job's)."""
    if version.get(tags.VERSION_SWEEP) and version.get(tags.VERSION_CONFIG_KEY):
        return version[tags.VERSION_SWEEP], version[tags.VERSION_CONFIG_KEY]
    run = sweeps.get_run(run_id) if run_id else None
    if run is None:
        return None, None
    return run.data.tags.get(tags.PARENT), run.data.tags.get(tags.CONFIG_KEY)


def same_split(jobs: pd.DataFrame, own_run: str | None) -> list[str]:
    """The jobs on the split seed(s) of the model's run, or of the runs it merged (a
    consensus run's `ebm_study.merged_runs`); the run itself whatever it is."""
    if not own_run:
        return []
    run = sweeps.get_run(own_run)
    merged = (run.data.tags.get(tags.MERGED_RUNS, "") if run else "").split(",")
    sources = [r for r in [own_run, *merged] if r in jobs.index]
    if "split_seed" not in jobs or not sources:
        return [own_run, *sources]
    seeds = set(jobs.loc[sources, "split_seed"].astype(str))
    return [own_run, *jobs.index[jobs["split_seed"].astype(str).isin(seeds)]]


def setting_shares(
    parent_id: str | None,
    key: str | None,
    X: pd.DataFrame,
    codes: pd.DataFrame,
    r: int,
    own_run: str | None = None,
) -> tuple[pd.DataFrame | None, int, str]:
    """Per listed reason of each row (`codes`: reason_1 ..), the share of its setting's runs
    (sweep `parent_id`, `key`) in whose top r for the row it is, each split seed's runs
    weighted alike; how many runs; why there are none. The runs on the model's own split
    seed (`own_run`'s, or those of the runs a consensus model merged) are left out: the model
    gives its reasons by definition, and runs on its training rows agree more than a retrain
    does (the study's pairs are across split seeds for the same reason)."""
    parent = sweeps.get_run(parent_id) if parent_id and key else None
    if parent is None:
        return None, 0, "the model did not come from a sweep's setting in this store"
    jobs = sweeps.jobs_frame(parent.info.experiment_id, parent_id)
    if "model_uri" not in jobs:
        return None, 0, "its setting's runs kept no models"
    mine = (jobs["status"] == "FINISHED") & (jobs[tags.CONFIG_KEY].astype(str) == str(key))
    jobs = jobs[mine & jobs["model_uri"].notna()]
    jobs = jobs[~jobs.index.isin(same_split(jobs, own_run))]
    if len(jobs) < 2:
        return (
            None,
            0,
            (f"its setting has {len(jobs)} run(s) with a model on other split seeds in the store"),
        )
    seeds = pd.to_numeric(jobs["split_seed"], errors="coerce") if "split_seed" in jobs else None
    order = list(jobs.index if seeds is None else seeds.sort_values(kind="stable").index)
    fitted = load_models(jobs, whole_split_seeds(order, seeds))
    if len(fitted) < 2:
        return None, 0, "its setting's models cannot be read"
    scored = score_runs(fitted, X, r)
    column = {t: i for i, t in enumerate(scored.terms)}
    design = (
        Design.independent(len(fitted))
        if seeds is None
        else Design.of(seeds[list(fitted)].tolist())
    )
    shares = measures.unit_shares(scored.top, design.unit(), len(scored.terms)).mean(axis=0)
    at = np.arange(len(X))
    out = {}
    for name in [c for c in codes.columns if c.startswith("reason_") and c[7:].isdigit()]:
        idx = np.array([column.get(t, -1) for t in codes[name]])
        found = np.where(idx >= 0, shares[at, np.maximum(idx, 0)], 0.0)
        out[f"{name}_stability"] = np.where(codes[name].isna(), np.nan, found)  # no reason
    return pd.DataFrame(out), len(fitted), ""
