"""How the study names what it compares: a setting by the swept hyperparameters that set it
apart, a run by the seeds the sweep varies."""

from __future__ import annotations

import pandas as pd

from ebm_study.config import SEEDS, setting_label
from ebm_study.tracking.tags import CONFIG_KEY, SETTING


def setting_labels(runs: pd.DataFrame, swept: list[str]) -> dict[str, str]:
    """config_key -> the swept hyperparameters that set it apart, e.g. `learning_rate=0.05`;
    for the one setting of a sweep of seeds, its runs' `setting` tag (the hyperparameters its
    command line fixed, or `default settings`), else its key."""
    labels = {}
    for key, members in runs.groupby(CONFIG_KEY):
        tagged = members[SETTING].dropna() if SETTING in members else pd.Series(dtype=str)
        labels[str(key)] = (
            setting_label(members.iloc[0], swept)
            or (str(tagged.iloc[0]) if len(tagged) else "")
            or str(key)
        )
    return labels


def _varied_seeds(runs: pd.DataFrame) -> list[str]:
    present = [s for s in SEEDS if s in runs]
    return [s for s in present if runs[s].nunique() > 1] or present[:1]


def seed_labels(runs: pd.DataFrame) -> dict[str, str]:
    """run_id -> its seeds in short, the ones the sweep varies: `3/1` (split/model), or `3`."""
    varied = _varied_seeds(runs)
    if not varied:
        return {r: str(r)[:6] for r in runs.index}
    return {r: "/".join(str(row[s]) for s in varied) for r, row in runs[varied].iterrows()}


def seeds_name(runs: pd.DataFrame) -> str:
    """What `seed_labels` show: `split/model seed`, `split seed`, or `run`."""
    varied = _varied_seeds(runs)
    return "/".join(s.removesuffix("_seed") for s in varied) + " seed" if varied else "run"
