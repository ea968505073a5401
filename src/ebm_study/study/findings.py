"""What holds in a sweep, read from its study: the orderings of neighbouring terms around the top
k (and any pair a user names), the reliably-top set, and every near-best model's importance
ranges. measures/conclusions.py does the arithmetic; this picks the runs and the terms."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from ebm_study.errors import UserError
from ebm_study.measures import conclusions
from ebm_study.metric_names import lower_is_better
from ebm_study.study.compute import Study
from ebm_study.tracking.tags import CONFIG_KEY

MAX_LISTED = 40  # terms an error message lists; beyond, the closest spellings


# How the near-best settings were chosen (Study.near_best_how).
PAIRED, WITHIN, ONE_SETTING, NO_INTERVAL = "paired", "within", "one setting", "no interval"


class UnknownPair(UserError):
    """A pair of terms a user named that the sweep cannot compare."""


def checked_pair(study: Study, pair: Sequence[str]) -> tuple[str, str]:
    """A pair of terms a user named (`--compare A B`), or an UnknownPair naming the bad one."""
    terms = [str(t) for t in study.scores.columns]
    for name in pair:
        if name not in terms:
            close = difflib.get_close_matches(name, terms, n=3)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
            listed = (
                f"terms: {', '.join(terms)}"
                if len(terms) <= MAX_LISTED
                else f"{len(terms)} terms, listed in topk_frequency.json"
            )
            raise UnknownPair(
                f"--compare {name!r} is not a term of this sweep's runs; {hint}{listed}"
            )
    a, b = pair
    if a == b:
        raise UnknownPair(f"--compare {a!r} {b!r} names one term twice: name two different terms")
    return a, b


def attach(study: Study, asked: Sequence[Sequence[str]] = ()) -> Study:
    """The study with its orderings, reliably-top set and near-best ranges (after its Pareto
    table, whose paired comparison says which settings are near-best)."""
    pairs = [checked_pair(study, p) for p in asked]
    k = study.settings.top_k
    design = study.design()
    order = [str(t) for t in study.topk_frequency["term"]]
    study.orderings = conclusions.orderings(study.scores, design, order, k, pairs)
    study.reliable = conclusions.reliable(study.scores, design, k, study.settings.reliable)
    lower = lower_is_better(study.score)
    keys = conclusions.near_best_keys(
        study.pareto, study.by_config, lower, study.settings.near_best
    )
    study.near_best_settings = keys
    study.near_best_how = how_near_best(study)
    runs = study.run_table[study.run_table[CONFIG_KEY].astype(str).isin(keys)]
    if len(runs):
        scored = runs[study.score].astype(float)
        best = None
        if scored.notna().any():
            best = scored.idxmin() if lower else scored.idxmax()
        study.near_best = conclusions.importance_ranges(study.scores.loc[runs.index], k, best)
        study.near_best_run = best
    return study


def how_near_best(study: Study) -> str:
    """How the near-best settings were chosen: by the paired test, within `study.near_best`,
    as the one setting there is, or as the best alone for want of a paired interval."""
    front = study.pareto
    if front is None or len(front) < 2:
        return ONE_SETTING
    if study.settings.near_best is not None:
        return WITHIN
    others = front[front["metric_vs_best_ci_low"].notna()]
    return PAIRED if len(others) else NO_INTERVAL
