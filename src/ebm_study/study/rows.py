"""The per-row study: on a reference set of rows every run scores, does each row keep its top
reasons and its prediction across the sweep's retrains (measures/rows.py)? And for
`ebm-study-predict --reason-stability`, how often a model's reasons for a row recur across
its setting's runs.

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

from ebm_study.errors import UserError
from ebm_study.fit import reasons
from ebm_study.measures import rows as measures
from ebm_study.measures.by_split import Design
from ebm_study.study.compute import Study
from ebm_study.study.groups import MAX_RUNS, chosen_runs, units_of
from ebm_study.study.reference import load_models
from ebm_study.study.row_reference import RowSet, rows_of_run
from ebm_study.tracking import sweeps, tags

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
    mean_proba: np.ndarray | None  # rows x classes: the runs' mean probabilities (None: reg.)
    bag_sd: np.ndarray  # runs x rows
    contributions: list[np.ndarray] = field(default_factory=list, repr=False)  # run's, rows x d


def score_runs(fitted: dict, X: pd.DataFrame, r: int) -> Scored:
    """Each model's r strongest terms for each row, and its prediction."""
    scored = [reasons.row_scores(ebm, X) for ebm in fitted.values()]
    terms = list(dict.fromkeys(t for s in scored for t in s.terms))
    column = {t: i for i, t in enumerate(terms)}
    classes = None
    if scored[0].classes is not None:
        classes = list(dict.fromkeys(c for s in scored for c in s.classes))
    tops, predicted, full = [], [], []
    proba = None if classes is None else np.zeros((len(X), len(classes)))
    for s in scored:
        wide = np.zeros((len(X), len(terms)))
        wide[:, [column[t] for t in s.terms]] = s.contributions
        full.append(wide)
        tops.append(reasons.strongest(wide, r))
        if classes is None:
            predicted.append(s.predicted)
        else:
            mine = np.array([classes.index(c) for c in s.classes])
            predicted.append(mine[s.predicted])
            proba[:, mine] += s.proba / len(scored)
    return Scored(
        terms,
        np.stack(tops),
        np.stack(predicted),
        classes,
        proba,
        np.stack([s.bag_sd for s in scored]),
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
    try:
        rows = rows_of_run(str(finished.index[0]), s.reference, s.reference_rows)
    except UserError:
        if s.reference:  # the user's file: theirs to fix
            raise
        log.warning("the sweep's data cannot be read again: the per-row study is left out")
        return None
    except Exception as err:  # noqa: BLE001 - the rest of the study stands without it
        log.warning("the per-row study is left out: %s: %s", type(err).__name__, err)
        return None
    fitted = load_models(finished, chosen, known)
    if len(fitted) < 2:
        return None
    r = s.top_reasons
    scored = score_runs(fitted, rows.X, r)
    design = study.design(list(fitted))
    found = measures.reasons(scored.top, len(scored.terms), design)
    if scored.classes is None:
        churn = measures.value_churn(scored.predicted, scored.bag_sd, design)
    else:
        near = near_boundary(scored.mean_proba)
        churn = measures.class_churn(scored.predicted, len(scored.classes), design, near)
    table = row_table(rows, scored, found, churn, r)
    grouped = by_group(scored, study.twins, design, r)
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
        groups=None if grouped is None else grouped[0],
        units=[] if grouped is None else grouped[1],
        fitted={**(known or {}), **fitted},
    )


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
    """rows: whether the runs' mean probabilities of its two likeliest classes are within
    NEAR_BOUNDARY of each other."""
    ordered = np.sort(mean_proba, axis=1)
    return ordered[:, -1] - ordered[:, -2] < NEAR_BOUNDARY


def ordered_reasons(found: measures.Reasons, r: int) -> np.ndarray:
    """rows x r: each row's modal top reason, then the terms most often among its top r."""
    modal = found.modal
    rest = found.in_top.copy()
    rest[np.arange(len(modal)), modal] = np.inf
    return np.argsort(-rest, axis=1, kind="stable")[:, :r]


def row_table(rows: RowSet, scored: Scored, found, churn, r: int) -> pd.DataFrame:
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
        out["bag_spread"] = np.sqrt(np.mean(scored.bag_sd**2, axis=0))
    else:
        out["prediction"] = np.array(scored.classes, dtype=object)[churn.modal]
        out["prediction_share"] = churn.modal_share
        out["churn"] = churn.per_row
        out["near_boundary"] = near_boundary(scored.mean_proba)
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


def whole_split_seeds(jobs: pd.DataFrame) -> list[str]:
    """At most MAX_RUNS of these runs, whole split seeds in their order (all without seeds)."""
    if "split_seed" not in jobs:
        return list(jobs.index[:MAX_RUNS])
    seeds = pd.to_numeric(jobs["split_seed"], errors="coerce")
    chosen: list[str] = []
    for _, members in jobs.groupby(seeds, sort=True):
        if chosen and len(chosen) + len(members) > MAX_RUNS:
            break
        chosen += list(members.index)
    return chosen[:MAX_RUNS]


def sweep_of(run_id: str | None, version: dict[str, str]) -> tuple[str | None, str | None]:
    """The sweep (parent run id) and setting (config_key) a model came from: its registered
    version's tags (a champion, a consensus model), else its run's (a job's)."""
    if version.get(tags.VERSION_SWEEP) and version.get(tags.VERSION_CONFIG_KEY):
        return version[tags.VERSION_SWEEP], version[tags.VERSION_CONFIG_KEY]
    run = sweeps.get_run(run_id) if run_id else None
    if run is None:
        return None, None
    return run.data.tags.get(tags.PARENT), run.data.tags.get(tags.CONFIG_KEY)


def setting_shares(
    parent_id: str | None, key: str | None, X: pd.DataFrame, codes: pd.DataFrame, r: int
) -> tuple[pd.DataFrame | None, int, str]:
    """For `ebm-study-predict --reason-stability`: per listed reason of each row (`codes`:
    reason_1 ..), the share of its setting's runs (sweep `parent_id`, `key`) in whose top r for
    the row it is, each split seed's runs weighted alike; how many runs; why there are none."""
    parent = sweeps.get_run(parent_id) if parent_id and key else None
    if parent is None:
        return None, 0, "the model did not come from a sweep's setting in this store"
    jobs = sweeps.jobs_frame(parent.info.experiment_id, parent_id)
    if "model_uri" not in jobs:
        return None, 0, "its setting's runs kept no models"
    mine = (jobs["status"] == "FINISHED") & (jobs[tags.CONFIG_KEY].astype(str) == str(key))
    jobs = jobs[mine & jobs["model_uri"].notna()]
    if len(jobs) < 2:
        return None, 0, f"its setting has {len(jobs)} run(s) with a model in the store"
    fitted = load_models(jobs, whole_split_seeds(jobs))
    if len(fitted) < 2:
        return None, 0, "its setting's models cannot be read"
    scored = score_runs(fitted, X, r)
    column = {t: i for i, t in enumerate(scored.terms)}
    seeds = jobs.loc[list(fitted), "split_seed"] if "split_seed" in jobs else None
    design = Design.independent(len(fitted)) if seeds is None else Design.of(seeds.tolist())
    shares = measures.unit_shares(scored.top, design.unit(), len(scored.terms)).mean(axis=0)
    at = np.arange(len(X))
    out = {}
    for name in [c for c in codes.columns if c.startswith("reason_") and c[7:].isdigit()]:
        idx = np.array([column.get(t, -1) for t in codes[name]])
        found = np.where(idx >= 0, shares[at, np.maximum(idx, 0)], 0.0)
        out[f"{name}_stability"] = np.where(codes[name].isna(), np.nan, found)  # no reason
    return pd.DataFrame(out), len(fitted), ""
