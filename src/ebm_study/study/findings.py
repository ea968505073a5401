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


def checked_pair(study: Study, pair: Sequence[str]) -> tuple[str, str]:
    """A pair of terms a user named (`--compare A B`), or a UserError naming the bad one."""
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
            raise UserError(
                f"--compare {name!r} is not a term of this sweep's runs; {hint}{listed}"
            )
    a, b = pair
    if a == b:
        raise UserError(f"--compare {a!r} {b!r} names one term twice: name two different terms")
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
    runs = study.run_table[study.run_table[CONFIG_KEY].astype(str).isin(keys)]
    if len(runs):
        scored = runs[study.score].astype(float)
        best = None
        if scored.notna().any():
            best = scored.idxmin() if lower else scored.idxmax()
        study.near_best = conclusions.importance_ranges(study.scores.loc[runs.index], k, best)
        study.near_best_run = best
    return study
