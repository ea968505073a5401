"""The study's tables as people read them: the per-setting table, values rounded for the UI."""

from __future__ import annotations

import math

import pandas as pd

from ebm_study.config import interval, number
from ebm_study.study.compute import (
    Study,
)


def fmt(x: float) -> str:
    """A value for people: `config.number`, or n/a."""
    return number(float(x)) if x is not None else "n/a"


def settings_table(study: Study) -> pd.DataFrame:
    """The headline table, one row a setting then the whole sweep, formatted for people."""

    def row(setting: str, runs: int, m) -> dict[str, object]:
        return {
            "setting": setting,
            "runs": int(runs),
            "nogueira (95% CI)": interval(
                m["nogueira"], m["nogueira_ci_low"], m["nogueira_ci_high"]
            ),
            "phi_corr": fmt(m.get("nogueira_corr", math.nan)),
            "jaccard": fmt(m["jaccard"]),
            "rbo": fmt(m["rbo"]),
            "kendall_w": fmt(m["kendall_w"]),
            "phi within split": fmt(m.get("nogueira_within_split", math.nan)),
            f"mean_{study.score}": fmt(m[f"mean_{study.score}"]),
        }

    rows = []
    for _, r in study.by_config.iterrows():
        rows.append(row(r["setting"], r["n_runs"], r))
        if "seeds_used" in r and pd.notna(r["seeds_used"]):  # seeds on demand: how many, why
            rows[-1]["seeds (stopped)"] = f"{int(r['seeds_used'])} ({r['stopped']})"
        if "trial" in r and pd.notna(r["trial"]):  # a search's: which trial asked for it
            rows[-1] = {"trial": str(int(r["trial"])), **rows[-1]}
    rows.append(row("whole sweep", study.n_runs, study.headline))
    return pd.DataFrame(rows).fillna("")


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """Every float to 3 significant digits; integers, text and NaN as they are."""

    def three(x: object) -> object:
        return float(f"{x:.3g}") if isinstance(x, float) and math.isfinite(x) else x

    return table.map(three)
