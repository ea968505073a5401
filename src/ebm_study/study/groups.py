"""Near-twin groups as units: each group of `term_groups.json` ranked beside the single terms by
its group importance on the reference rows (fit/contributions.unit_importances), and the top-k
stability of that ranking by split seed (`stability_groups`), so "the concavity group is always
on top" is a measured claim. Every run's model is read once; the shape study reuses them.

Every unit, a group or a single term, is measured the same way on the same rows (the study's
reference rows, study/reference.py), so a group and a term rank on one footing. A pair term
stays a unit of its own, even when one of its features is in a group.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from ebm_study.fit import contributions
from ebm_study.measures import by_split, conclusions, stability
from ebm_study.measures.stability import Estimate
from ebm_study.study.compute import Study
from ebm_study.study.reference import load_models, reference

log = logging.getLogger(__name__)

# Models read for the group study, whole split seeds in the study's order (0.16 s a model on
# breast cancer): 100 keep it within 20 s; a larger sweep's groups are measured on its first
# split seeds, and the summary says how many runs.
MAX_RUNS = 100


@dataclass
class GroupStudy:
    units: dict[str, list[str]]  # unit -> its terms (one for a single term)
    matrix: pd.DataFrame  # runs x units: importance
    stability: Estimate  # Phi of the units' top k across split seeds
    terms_stability: Estimate  # Phi of the single terms' top k, same runs, same rows
    table: pd.DataFrame  # one row a unit in some run's top k (conclusions.reliable, + members)
    n_runs_total: int  # the study's runs; matrix holds those read (at most MAX_RUNS)
    fitted: dict = field(default_factory=dict, repr=False)  # run_id -> model, for the shapes


def group_name(number: int, members: list[str]) -> str:
    return f"group {number} ({', '.join(members)})"


def units_of(twins: pd.DataFrame, columns: list[str]) -> dict[str, list[str]]:
    """The units: each near-twin group with at least two of its features among the study's
    terms, then every other term alone."""
    units: dict[str, list[str]] = {}
    grouped: set[str] = set()
    for number, rows in twins.groupby("group", sort=True):
        members = [t for t in rows["term"] if t in columns]
        if len(members) >= 2:
            units[group_name(int(number), members)] = members
            grouped.update(members)
    for term in columns:
        if term not in grouped:
            units[term] = [term]
    return units


def chosen_runs(study: Study, finished: pd.DataFrame) -> list[str]:
    """The runs with a model, whole split seeds in the study's order, at most MAX_RUNS."""
    order = [r for r in study.ranks.index if pd.notna(finished["model_uri"].get(r))]
    split = study.run_table.get("split_seed")
    return whole_split_seeds(order, split)


def whole_split_seeds(order: list[str], split: pd.Series | None) -> list[str]:
    """At most MAX_RUNS of these runs, whole split seeds (`split`: run_id -> its split seed;
    None: runs without one), split seeds in the order their first run comes, runs in order."""
    if len(order) <= MAX_RUNS or split is None:
        return order[:MAX_RUNS]
    seeds = split.loc[order].astype(str)
    chosen: list[str] = []
    for _, members in seeds.groupby(seeds, sort=False):
        if chosen and len(chosen) + len(members) > MAX_RUNS:
            break
        chosen += list(members.index)
    return chosen[:MAX_RUNS]


def group_study(study: Study, finished: pd.DataFrame) -> GroupStudy | None:
    """The groups as units over the runs' models; None without near-twin groups, models or
    readable data (the summary then says nothing of groups)."""
    twins = study.twins
    if twins is None or twins.empty or "model_uri" not in finished:
        return None
    runs = chosen_runs(study, finished)
    units = units_of(twins, list(study.scores.columns))
    if len(runs) < 2 or all(len(m) == 1 for m in units.values()):
        return None
    ref = reference(str(finished.index[0]))
    if ref is None:
        return None
    fitted = load_models(finished, runs)
    unreadable = {r: None for r in runs if r not in fitted}  # for the shape study: not again
    runs = list(fitted)
    if len(runs) < 2:
        return None
    # The single terms measured the same way, for the comparison: grouping changes only that.
    singles = {t: [t] for t in study.scores.columns}
    both = pd.DataFrame(
        [
            contributions.unit_importances(ebm, ref.X, {**units, **singles})
            for ebm in fitted.values()
        ],
        index=runs,
    )
    matrix = both[list(units)]
    k = study.settings.top_k
    design = study.design(runs)
    table = conclusions.reliable(matrix, design, k, study.settings.reliable)
    table.insert(1, "members", table["term"].map(lambda u: ", ".join(units[u])))
    table = table.rename(columns={"term": "unit"})
    return GroupStudy(
        units=units,
        matrix=matrix,
        stability=by_split.nogueira(stability.top_k(matrix.to_numpy(float), k), design),
        terms_stability=by_split.nogueira(
            stability.top_k(both[list(singles)].to_numpy(float), k), design
        ),
        table=table,
        n_runs_total=study.n_runs,
        fitted={**fitted, **unreadable},
    )
