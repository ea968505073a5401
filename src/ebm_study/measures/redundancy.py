"""Near-twin features: groups of features whose absolute Spearman correlation on the training
rows reaches a threshold, and the 0/1 redundancy matrix over terms that the correlation-aware
stability (stability.nogueira_corr) reads. Pure: a data frame in, tables out."""

from __future__ import annotations

import numpy as np
import pandas as pd

PAIR_SEPARATOR = " & "  # interpret names a pair term "worst radius & worst texture"


def groups(X: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """One row a feature in a group of near-twins: `group` (1 = the largest), `term`, and
    `max_abs_corr` (its largest |Spearman rho| with another member). Groups are the connected
    components of "|rho| >= threshold"; features without a twin are left out. Numeric columns
    only (a category has no order to correlate)."""
    from scipy.sparse.csgraph import connected_components

    numeric = X.select_dtypes("number")
    columns = ["group", "term", "max_abs_corr"]
    if numeric.shape[1] < 2:
        return pd.DataFrame(columns=columns)
    rho = numeric.corr(method="spearman").abs().to_numpy(copy=True)
    np.fill_diagonal(rho, 0.0)
    rho = np.nan_to_num(rho)  # a constant column correlates with nothing
    linked = rho >= threshold
    _, label = connected_components(linked, directed=False)
    rows = []
    members = [np.flatnonzero(label == g) for g in np.unique(label)]
    members = [m for m in members if len(m) > 1]
    members.sort(key=lambda m: (-len(m), m[0]))
    for number, member in enumerate(members, start=1):
        for i in member:
            best = float(rho[i, member].max())
            rows.append({"group": number, "term": str(numeric.columns[i]), "max_abs_corr": best})
    return pd.DataFrame(rows, columns=columns)


def features_of(term: str) -> list[str]:
    """A term's features: one for a main effect, two for a pair."""
    return term.split(PAIR_SEPARATOR)


def redundancy_matrix(terms: list[str], twins: pd.DataFrame) -> np.ndarray:
    """C over terms: 1 on the diagonal and where two terms share a group of near-twins (a pair
    term shares the groups of its features), 0 elsewhere. No twins: the identity."""
    group_of = dict(zip(twins["term"], twins["group"], strict=True)) if len(twins) else {}
    sets = [{group_of[f] for f in features_of(t) if f in group_of} for t in terms]
    d = len(terms)
    C = np.eye(d)
    for a in range(d):
        for b in range(a + 1, d):
            if sets[a] & sets[b]:
                C[a, b] = C[b, a] = 1.0
    return C


def sub_matrix(C: np.ndarray | None, columns, kept: list[str]) -> np.ndarray | None:
    """The redundancy matrix over the kept columns."""
    if C is None:
        return None
    at = [list(columns).index(c) for c in kept]
    return C[np.ix_(at, at)]


def twin_shares(twins: pd.DataFrame, scores: pd.DataFrame, k: int) -> pd.DataFrame:
    """The groups with `share_topk`: the share of runs whose top k holds at least one term of
    the group (a pair term counts for the groups of its features)."""
    from ebm_study.measures.stability import top_k

    Z = top_k(scores.to_numpy(float), k)
    share = {}
    for group, members in twins.groupby("group"):
        names = set(members["term"])
        hit = [any(f in names for f in features_of(t)) for t in scores.columns]
        share[group] = (
            float(Z[:, np.array(hit, dtype=bool)].any(axis=1).mean()) if any(hit) else 0.0
        )
    return twins.assign(share_topk=twins["group"].map(share))
