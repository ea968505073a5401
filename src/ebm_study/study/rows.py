"""The per-row study: on a reference set of rows every run scores, does each row keep its top
reasons and its prediction across the sweep's retrains (measures/rows.py), over the whole
sweep (as the headline) and within each setting? (`ebm-study-predict --reason-stability`:
study/row_codes.py.)

The reference rows are the data set's (every row up to `study.reference_rows`, a seeded
sample above that, the same for every run), or the rows of `study.reference`, a CSV read as
`ebm-study-predict` reads its input. Each run's models reason about the same rows, whichever
of them it was trained on.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ebm_study.fit import reasons
from ebm_study.fit.inputs import unseen_categories
from ebm_study.measures import rows as measures
from ebm_study.measures.by_split import Design
from ebm_study.study.compute import Study
from ebm_study.study.groups import chosen_runs, units_of
from ebm_study.study.reference import load_models
from ebm_study.study.row_reference import RowSet, rows_of_run
from ebm_study.tracking import tags

log = logging.getLogger(__name__)

# A row is near the decision boundary when the runs' mean probabilities of its two likeliest
# classes are within this of each other (two classes: a mean probability from 0.4 to 0.6).
NEAR_BOUNDARY = 0.2


@dataclass
class Scored:
    """Every run on the reference rows, on one footing: terms and classes as union columns."""

    terms: list[str]
    top: np.ndarray  # runs x rows x r: columns of `terms`, strongest first
    predicted: np.ndarray  # runs x rows: a class (index in `classes`) or a value
    classes: list[str] | None
    proba: np.ndarray | None  # runs x rows x classes (None: a regression)
    bag_se: np.ndarray  # runs x rows: a regression's standard error from its own bags
    present: np.ndarray  # runs x terms: whether the run's model has the term
    contributions: list[np.ndarray] = field(default_factory=list, repr=False)  # run's, rows x d


def score_runs(fitted: dict, X: pd.DataFrame, r: int) -> Scored:
    """Each model's r strongest terms for each row, and its prediction."""
    scored = [reasons.row_scores(ebm, X) for ebm in fitted.values()]
    terms = list(dict.fromkeys(t for s in scored for t in s.terms))
    column = {t: i for i, t in enumerate(terms)}
    classes = None
    if scored[0].classes is not None:
        classes = list(dict.fromkeys(c for s in scored for c in s.classes))
    tops, predicted, full, probas = [], [], [], []
    present = np.zeros((len(scored), len(terms)), dtype=bool)
    for m, s in enumerate(scored):
        at = [column[t] for t in s.terms]
        present[m, at] = True
        wide = np.zeros((len(X), len(terms)))
        wide[:, at] = s.contributions
        full.append(wide)
        tops.append(reasons.strongest(wide, r))
        if classes is None:
            predicted.append(s.predicted)
        else:  # a run's classes in the union's order, whatever order the run has them in
            mine = np.array([classes.index(c) for c in s.classes])
            predicted.append(mine[s.predicted])
            proba = np.zeros((len(X), len(classes)))
            proba[:, mine] = s.proba
            probas.append(proba)
    return Scored(
        terms,
        np.stack(tops),
        np.stack(predicted),
        classes,
        np.stack(probas) if probas else None,
        np.stack([s.bag_se for s in scored]),
        present,
        full,
    )


@dataclass
class RowStudy:
    about: str  # the reference rows, in words
    n_runs: int  # the runs whose models scored them
    n_runs_total: int  # the study's runs
    top_reasons: int
    reasons: measures.Reasons
    churn: measures.Churn
    table: pd.DataFrame  # reasons.json: a row a reference row
    swaps: pd.DataFrame  # among rows that change their top reason: which two terms trade
    terms: list[str]
    regression: bool
    across: bool  # pairs across split seeds (False: every run on one split seed)
    by_setting: pd.DataFrame  # reasons_by_setting.json: the same measures within each setting
    # The same with each near-twin group as one reason (None without groups): a row whose
    # top reason is "worst texture" in one run and "mean texture" in the next keeps its signal.
    groups: measures.Reasons | None = None
    units: list[str] = field(default_factory=list)  # the groups' and other terms' names
    fitted: dict = field(default_factory=dict, repr=False)  # run_id -> model, for the shapes

    def metrics(self) -> dict[str, float]:
        """The parent's metrics (absent where undefined)."""
        out = {tags.REASON_AGREEMENT: self.reasons.agreement}
        pairs = [
            (tags.REASON_STABILITY, self.reasons.stability),
            (tags.PREDICTION_CHURN, self.churn.churn),
        ]
        if self.groups is not None:  # near-twin groups as one reason
            out[f"{tags.REASON_AGREEMENT}{tags.GROUPS_SUFFIX}"] = self.groups.agreement
            pairs.append((f"{tags.REASON_STABILITY}{tags.GROUPS_SUFFIX}", self.groups.stability))
        for name, est in pairs:
            out.update(
                {name: est.value, f"{name}_ci_low": est.ci_low, f"{name}_ci_high": est.ci_high}
            )
        if self.churn.near_boundary is not None:
            out[tags.PREDICTION_CHURN_NEAR_BOUNDARY] = self.churn.near_boundary.value
        if self.regression:
            out[tags.PREDICTION_SPREAD] = self.churn.spread
            out[tags.PREDICTION_BAG_SPREAD] = self.churn.bag_spread
        return {k: float(v) for k, v in out.items() if not math.isnan(v)}


def row_study(study: Study, finished: pd.DataFrame, known: dict | None = None) -> RowStudy | None:
    """The per-row study over the runs' models (at most groups.MAX_RUNS, whole split seeds);
    None when the runs kept no models (the summary says nothing of rows). A reference file
    that cannot be read is the user's to fix (UserError); data that cannot be read again (a
    moved CSV) leaves the rest of the study standing, with a warning."""
    if "model_uri" not in finished:
        return None
    chosen = chosen_runs(study, finished)
    if len(chosen) < 2:
        return None
    s = study.settings
    try:  # a file the user names now is read first (publish.compute): here, one from before
        rows = rows_of_run(str(finished.index[0]), s.reference, s.reference_rows)
    except Exception as err:  # noqa: BLE001 - the rest of the study stands without it
        log.warning("the per-row study is left out: %s", str(err).splitlines()[0])
        return None
    fitted = load_models(finished, chosen, known)
    if len(fitted) < 2:
        return None
    for line in unseen_categories(next(iter(fitted.values())), rows.X):
        log.warning("the per-row study's reference rows: %s", line)
    r = s.top_reasons
    scored = score_runs(fitted, rows.X, r)
    runs = list(fitted)
    every = np.arange(len(runs))
    found, churn, near = measured(scored, every, study.design(runs), r)
    table = row_table(rows, scored, found, churn, near, r)
    grouped = by_group(scored, study.twins, study.design(runs), r)
    if grouped is not None:
        at = np.arange(len(table))
        table["top_group"] = np.array(grouped[1], dtype=object)[grouped[0].modal]
        table["top_group_share"] = grouped[0].top_share[at, grouped[0].modal]
    return RowStudy(
        about=rows.about,
        n_runs=len(fitted),
        n_runs_total=study.n_runs,
        top_reasons=r,
        reasons=found,
        churn=churn,
        table=table,
        swaps=swaps(found, scored.terms, study.twins),
        terms=scored.terms,
        regression=scored.classes is None,
        across=study.design(runs).across,
        by_setting=by_setting(study, scored, runs, r),
        groups=None if grouped is None else grouped[0],
        units=[] if grouped is None else grouped[1],
        fitted={**(known or {}), **fitted},
    )


def measured(
    scored: Scored, idx: np.ndarray, design: Design, r: int
) -> tuple[measures.Reasons, measures.Churn, np.ndarray | None]:
    """The reasons and churn over some of the runs (`idx`, on their own `design`), their
    terms only: a term none of these runs' models has is no candidate (Kuncheva's d); and the
    rows near the decision boundary (None: a regression)."""
    cols = np.flatnonzero(scored.present[idx].any(axis=0))
    if len(cols) == len(scored.terms):  # every term: the runs' top r as score_runs took them
        top = scored.top[idx]
    else:
        top = np.stack([reasons.strongest(scored.contributions[m][:, cols], r) for m in idx])
    found = measures.reasons(top, len(cols), design)
    if scored.classes is None:
        return found, measures.value_churn(scored.predicted[idx], scored.bag_se[idx], design), None
    near = near_boundary(weighted_mean(scored.proba[idx], design))
    churn = measures.class_churn(scored.predicted[idx], len(scored.classes), design, near)
    return found, churn, near


def weighted_mean(values: np.ndarray, design: Design) -> np.ndarray:
    """The mean over runs (the first axis), each split seed's runs weighted alike."""
    unit = design.unit()
    size = np.bincount(unit).astype(float)
    weight = 1 / (size[unit] * len(size))
    return np.tensordot(weight, values, axes=1)


def by_setting(study: Study, scored: Scored, runs: list[str], r: int) -> pd.DataFrame:
    """reasons_by_setting.json: the per-row measures within each setting of two runs or more
    (its retrains alone: the question a user of that setting's model asks)."""
    keys = study.run_table.loc[runs, tags.CONFIG_KEY].astype(str).to_numpy()
    rows = []
    for key in dict.fromkeys(keys):
        idx = np.flatnonzero(keys == key)
        if len(idx) < 2:
            continue
        members = [runs[i] for i in idx]
        design = study.design(members)
        found, churn, _ = measured(scored, idx, design, r)
        row = {
            tags.CONFIG_KEY: key,
            "setting": study.run_settings.get(members[0], key),
            "n_runs": len(idx),
            "n_split_seeds": design.n_groups,
            tags.REASON_AGREEMENT: found.agreement,
        }
        for name, est in (
            (tags.REASON_STABILITY, found.stability),
            (tags.PREDICTION_CHURN, churn.churn),
        ):
            row.update(
                {name: est.value, f"{name}_ci_low": est.ci_low, f"{name}_ci_high": est.ci_high}
            )
        rows.append(row)
    return pd.DataFrame(rows)


def by_group(
    scored: Scored, twins: pd.DataFrame | None, design: Design, r: int
) -> tuple[measures.Reasons, list[str]] | None:
    """The rows' reasons with each near-twin group as one unit (groups.units_of), its
    contribution to a row the sum of its members' (as a group's importance is the mean of
    its absolute value); None without groups."""
    if twins is None or twins.empty:
        return None
    units = units_of(twins, scored.terms)
    if all(len(members) == 1 for members in units.values()):
        return None
    column = {t: i for i, t in enumerate(scored.terms)}
    member = np.zeros((len(scored.terms), len(units)))
    for u, terms in enumerate(units.values()):
        member[[column[t] for t in terms], u] = 1.0
    top = np.stack([reasons.strongest(c @ member, r) for c in scored.contributions])
    return measures.reasons(top, len(units), design), list(units)


def near_boundary(mean_proba: np.ndarray) -> np.ndarray:
    """rows: whether the runs' mean probabilities (each split seed's runs weighted alike) of
    its two likeliest classes are within NEAR_BOUNDARY of each other."""
    ordered = np.sort(mean_proba, axis=1)
    return ordered[:, -1] - ordered[:, -2] < NEAR_BOUNDARY


def ordered_reasons(found: measures.Reasons, r: int) -> np.ndarray:
    """rows x r: each row's modal top reason, then the terms most often among its top r."""
    modal = found.modal
    rest = found.in_top.copy()
    rest[np.arange(len(modal)), modal] = np.inf
    return np.argsort(-rest, axis=1, kind="stable")[:, :r]


def row_table(rows: RowSet, scored: Scored, found, churn, near, r: int) -> pd.DataFrame:
    """reasons.json: a row a reference row."""
    names = np.array(scored.terms, dtype=object)
    listed = ordered_reasons(found, min(r, len(names)))
    at = np.arange(len(rows.X))
    out = {"row": rows.labels.to_numpy()}
    for j in range(listed.shape[1]):
        out[f"reason_{j + 1}"] = names[listed[:, j]]
        out[f"reason_{j + 1}_share"] = found.in_top[at, listed[:, j]]
    out["top_reason_share"] = found.modal_share
    out["reason_set_agreement"] = found.set_agreement
    if scored.classes is None:
        out["prediction_mean"] = churn.modal
        out["prediction_spread"] = churn.per_row
        out["bag_se"] = np.sqrt(np.mean(scored.bag_se**2, axis=0))
    else:
        out["prediction"] = np.array(scored.classes, dtype=object)[churn.modal]
        out["prediction_share"] = churn.modal_share
        out["churn"] = churn.per_row
        out["near_boundary"] = near
    return pd.DataFrame(out)


def swaps(found: measures.Reasons, terms: list[str], twins: pd.DataFrame | None) -> pd.DataFrame:
    """Among the rows whose top reason is not the same in measures.AGREE of the runs: which
    two terms trade the top place (the modal top reason and the runner-up), in how many rows,
    and whether they are near-twin features (one group of `twins`)."""
    unstable = np.flatnonzero(found.modal_share < measures.AGREE - 1e-9)
    columns = ["term_a", "term_b", "rows", "near_twins"]
    if not len(unstable) or found.top_share.shape[1] < 2:
        return pd.DataFrame(columns=columns)
    order = np.argsort(-found.top_share[unstable], axis=1, kind="stable")
    pairs = Counter(tuple(sorted((terms[a], terms[b]))) for a, b in order[:, :2])
    group = {} if twins is None or twins.empty else twins.set_index("term")["group"].to_dict()
    return pd.DataFrame(
        [
            {
                "term_a": a,
                "term_b": b,
                "rows": n,
                "near_twins": a in group and group.get(b) == group[a],
            }
            for (a, b), n in pairs.most_common()
        ],
        columns=columns,
    )
