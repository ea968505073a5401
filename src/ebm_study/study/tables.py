"""The study's tables as people read them: the short per-setting table, and every table's
numbers rounded to the digits their intervals support (rounding.py)."""

from __future__ import annotations

import math

import pandas as pd

from ebm_study.rounding import decimals, interval, number, rounded_like
from ebm_study.study.compute import Study
from ebm_study.tracking.tags import CONFIG_KEY

SCORE_NAMES = {
    "f1": "F1",
    "r2": "R²",
    "average_precision": "average precision",
    "roc_auc": "ROC AUC",
}


def fmt(x: float) -> str:
    """A value for people: `rounding.number`, or n/a."""
    return number(float(x)) if x is not None else "n/a"


def recommended_keys(study: Study) -> set[str]:
    """The config_key of the recommended setting (none for a sweep of one setting)."""
    if study.pareto is None:
        return set()
    return set(study.pareto.loc[study.pareto["recommended"], CONFIG_KEY])


def settings_table(study: Study) -> pd.DataFrame:
    """The headline table, one row a setting (the most stable first) then the whole sweep:
    a handful of columns in words, each value with its interval and the digits it supports.
    The rest of the measures are in stability_by_config.json."""
    k = study.settings.top_k
    score = study.score
    recommended = recommended_keys(study)

    def row(setting: str, m, key: str | None = None) -> dict[str, object]:
        splits = int(m.get("n_split_seeds", 0) or 0)
        runs = int(m["n_runs"])
        return {
            "setting": setting + (" (recommended)" if key in recommended else ""),
            "runs": f"{runs} on {splits} split seeds" if splits and splits != runs else str(runs),
            f"mean {SCORE_NAMES.get(score, score)} (95% CI)": interval(
                m[f"mean_{score}"], m.get(f"{score}_ci_low"), m.get(f"{score}_ci_high")
            ),
            f"top-{k} stability, Phi (95% CI)": interval(
                m["nogueira"], m["nogueira_ci_low"], m["nogueira_ci_high"]
            ),
            "Phi, near-twins as one": fmt(m.get("nogueira_corr", math.nan)),
            "Phi within a split seed": fmt(m.get("nogueira_within_split", math.nan)),
        }

    rows = []
    for _, r in study.by_config.iterrows():
        rows.append(row(r["setting"], r, r[CONFIG_KEY]))
        if "seeds_used" in r and pd.notna(r["seeds_used"]):  # seeds on demand: how many, why
            rows[-1]["seeds (stopped)"] = f"{int(r['seeds_used'])} ({r['stopped']})"
        if "trial" in r and pd.notna(r["trial"]):  # a search's: which trial asked for it
            rows[-1] = {"trial": str(int(r["trial"])), **rows[-1]}
    h = study.headline
    whole = {
        **h,
        "n_runs": study.n_runs,
        f"{score}_ci_low": h.get(f"mean_{score}_ci_low"),
        f"{score}_ci_high": h.get(f"mean_{score}_ci_high"),
    }
    rows.append(row("whole sweep", whole))
    table = pd.DataFrame(rows).fillna("")
    # A column all n/a (no near-twins, one run a split seed) says nothing: left out.
    empty = [c for c in table if (table[c] == "n/a").all()]
    return table.drop(columns=empty)


# Which column an interval's ends belong to: `nogueira` for nogueira_ci_low, `mean_f1` for
# f1_ci_low, `topk_frequency` for topk_ci_low, `metric_mean` for metric_ci_low.
_VALUE_NAMES = ("{}", "mean_{}", "{}_mean", "{}_frequency")


def _text(column: pd.Series) -> bool:
    return bool(column.map(lambda x: isinstance(x, str)).any())


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """Each value with an interval (`x`, `x_ci_low`, `x_ci_high`), and each interval alone, to
    the digits its interval supports, row by row; every other float to 3 significant digits;
    integers, text and NaN as they are. For the JSON tables people open in the UI: the study's
    metrics keep every digit."""
    out = table.copy()
    done: set[str] = set()
    for low in [c for c in table.columns if str(c).endswith("_ci_low")]:
        base = str(low).removesuffix("_ci_low")
        high = f"{base}_ci_high"
        if high not in table:
            continue
        values = [
            name.format(base)
            for name in _VALUE_NAMES
            # pareto's `metric` names the score ("f1"); its value is `metric_mean`
            if name.format(base) in table and not _text(table[name.format(base)])
        ]
        places = [decimals(a, b) for a, b in zip(table[low], table[high], strict=True)]
        for column in [*values[:1], low, high]:
            out[column] = [rounded_like(x, p) for x, p in zip(table[column], places, strict=True)]
            done.add(column)
    for column in table.columns:
        if column not in done:
            out[column] = table[column].map(lambda x: rounded_like(x, None))
    return out
