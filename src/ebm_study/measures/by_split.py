"""The study's measures under its own seed design: runs that share a split seed are not
independent retrains, so pairs are taken across split seeds and intervals resample split seeds.

The estimand is the stability of the top k across independent retrains of the data set: two
runs with a fresh split and a fresh model seed each. A pair of runs on one split seed shares
its training rows and agrees more than that (on breast cancer Phi 0.67 within a split against
0.39 across), so every pairwise measure here is the mean over pairs of *split seeds* (g, h),
g != h, of the mean of the measure over the runs of g against the runs of h: a pair's weight
does not depend on how many model seeds shared its split. With one run a split seed that is
the ordinary mean over pairs of runs, and each measure equals its value in `stability`.

Intervals are the delete-a-split-seed jackknife (Shao & Tu 1995, sec. 2.3; Field & Welsh 2007
on clustered data): the estimate recomputed with each split seed left out, variance
(G-1)/G sum_g (theta_(-g) - mean)^2, a t quantile on G-1 degrees of freedom; none with fewer
than 3 split seeds. A pairwise mean over split seeds is a U-statistic over them, so each
left-out value follows in closed form from the split seeds' sums: (T - 2 r_g) / ((G-1)(G-2)),
T the sum over ordered pairs, r_g split seed g's sum against the others: one pass over the
distinct top-k sets, whatever the number of runs.

When every run has one split seed (a sweep of model seeds alone), there is nothing across:
the measures are then over pairs of runs on that split (model randomness alone, the data held
fixed), with the jackknife by run, and `Design.across` says which was computed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ebm_study.measures import intervals, stability
from ebm_study.measures.stability import Estimate

MIN_GROUPS = intervals.MIN_RUNS_FOR_INTERVAL  # split seeds (or runs) an interval needs


@dataclass(frozen=True)
class Design:
    """Which split seed each run is on: `groups[i]` an integer label, 0..G-1."""

    groups: np.ndarray

    @classmethod
    def of(cls, labels) -> Design:
        """From any labels a run (split seeds; None or nan: the run is its own split)."""
        import pandas as pd  # its isna knows every missing value (None, nan, NA, NaT)

        filled = [f"run {i}" if pd.isna(v) else str(v) for i, v in enumerate(labels)]
        _, groups = np.unique(np.array(filled, dtype=object).astype(str), return_inverse=True)
        return cls(groups.astype(np.int64))

    @classmethod
    def independent(cls, n: int) -> Design:
        return cls(np.arange(n, dtype=np.int64))

    @property
    def n_groups(self) -> int:
        return int(self.groups.max()) + 1 if len(self.groups) else 0

    @property
    def across(self) -> bool:
        """Pairs across split seeds (True), or, with a single one, within it."""
        return self.n_groups >= 2

    def unit(self) -> np.ndarray:
        """What the estimate and the jackknife treat as independent: split seeds, or runs
        when there is one split seed."""
        return self.groups if self.across else np.arange(len(self.groups), dtype=np.int64)

    def subset(self, rows: np.ndarray) -> Design:
        _, groups = np.unique(self.groups[rows], return_inverse=True)
        return Design(groups.astype(np.int64))


@dataclass(frozen=True)
class Sums:
    """A pairwise mean over units (split seeds) in the form the jackknife needs: `total`, the
    sum over ordered pairs of units of their mean kernel value, and `per_unit[g]`, unit g's
    sum against every other unit."""

    total: float
    per_unit: np.ndarray

    @property
    def n(self) -> int:
        return len(self.per_unit)

    def mean(self) -> float:
        G = self.n
        return self.total / (G * (G - 1)) if G >= 2 else math.nan

    def left_out(self) -> np.ndarray:
        """The mean with each unit left out in turn."""
        G = self.n
        if G < 3:
            return np.full(G, math.nan)
        return (self.total - 2 * self.per_unit) / ((G - 1) * (G - 2))


def set_sums(Z: np.ndarray, unit: np.ndarray, kernel: Callable[[np.ndarray], np.ndarray]) -> Sums:
    """`Sums` of a kernel between top-k sets (rows of Z), over pairs of runs on different units:
    computed on the distinct sets, each weighted within its unit by 1 / the unit's runs.
    `kernel(U)` is the matrix of the kernel between the rows of U."""
    from scipy import sparse

    Z = np.asarray(Z)
    G = int(unit.max()) + 1
    sets, which = np.unique(Z, axis=0, return_inverse=True)
    which = np.asarray(which).ravel()
    size = np.bincount(unit, minlength=G).astype(float)
    # W[u, g]: the share of unit g's runs whose set is u.
    W = sparse.csc_matrix(
        (1 / size[unit], (which, unit)), shape=(len(sets), G), dtype=float
    )  # duplicates add up
    K = np.asarray(kernel(sets), dtype=float)
    a = np.asarray(W.sum(axis=1)).ravel()
    Ka = K @ a
    WtK = np.asarray(W.T @ K)  # G x U, dense
    own = np.asarray(W.T.multiply(WtK).sum(axis=1)).ravel()  # unit g against itself
    per_unit = np.asarray(W.T @ Ka).ravel() - own
    return Sums(float(per_unit.sum()), per_unit)


def unit_means(values: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """The mean of a per-run value within each unit."""
    G = int(unit.max()) + 1
    return np.bincount(unit, weights=values, minlength=G) / np.bincount(unit, minlength=G)


def _what(design: Design) -> str:
    return "split seeds" if design.across else "runs"


def _defined_sizes(k: np.ndarray, d: int) -> str:
    kbar = k.mean()
    if kbar == d:
        return "undefined: every run selects every term"
    if kbar == 0:
        return "no run selects a term"
    return ""


def nogueira(Z: np.ndarray, design: Design) -> Estimate:
    """Nogueira's Phi in its pairwise form: 1 - mean_pairs |z_i - z_j|^2 / (2 d) /
    (kbar/d (1 - kbar/d)), pairs across split seeds, kbar the mean set size over split seeds.
    With one run a split seed, Nogueira, Sechidis & Brown's Phi exactly."""
    return _estimate(nogueira_parts(Z, design), design)


def nogueira_parts(Z: np.ndarray, design: Design) -> Parts:
    """Phi and its value with each unit left out (`nogueira`; `difference` pairs two)."""
    Z = np.asarray(Z, dtype=float)
    M, d = Z.shape
    if M < 2:
        return Parts(math.nan, None, "needs at least 2 runs")
    k = Z.sum(axis=1)
    note = _defined_sizes(k, d)
    if note:
        return Parts(math.nan, None, note)
    unit = design.unit()
    hamming = set_sums(Z, unit, lambda U: _sizes_sum(U) - 2 * (U @ U.T))
    k_unit = unit_means(k, unit)

    def phi(total_h, kbar, pairs) -> np.ndarray:
        B = (kbar / d) * (1 - kbar / d)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(B > 0, 1 - (total_h / pairs) / (2 * d) / B, np.nan)

    G = hamming.n
    value = float(phi(hamming.total, k_unit.mean(), G * (G - 1)))
    if G < 3:
        return Parts(value, np.full(G, math.nan))
    kbar_out = (k_unit.sum() - k_unit) / (G - 1)
    out = phi(hamming.total - 2 * hamming.per_unit, kbar_out, (G - 1) * (G - 2))
    return Parts(value, np.asarray(out, dtype=float))


@dataclass(frozen=True)
class Parts:
    """An estimate before its interval: the value, the values with each unit left out (None
    when undefined), and why it is undefined."""

    value: float
    left_out: np.ndarray | None
    note: str = ""


def _estimate(parts: Parts, design: Design) -> Estimate:
    if parts.left_out is None:
        return Estimate.undefined(parts.note)
    return intervals.from_left_out(parts.value, parts.left_out, _what(design))


def difference(a: Parts, b: Parts) -> Estimate:
    """a - b for two settings measured on the same split seeds (their `Parts` computed on the
    same units, in the same order), with the paired delete-a-split jackknife's interval: each
    split seed left out of both at once, so what the split seeds share cancels."""
    if a.left_out is None or b.left_out is None:
        return Estimate.undefined(a.note or b.note)
    if len(a.left_out) != len(b.left_out):
        return Estimate.undefined("the two settings are not on the same split seeds")
    return intervals.from_left_out(a.value - b.value, a.left_out - b.left_out)


def nogueira_corr(Z: np.ndarray, C: np.ndarray, design: Design) -> Estimate:
    """Sechidis et al.'s correlation-aware Phi_C = 1 - sum(C o S) / sum(C o Sigma0), with S (the
    unbiased covariance of Z's columns, a mean over pairs of (z_i - z_j)(z_i - z_j)^T / 2) over
    pairs across split seeds, and Sigma0 from the mean set sizes over split seeds."""
    return _estimate(nogueira_corr_parts(Z, C, design), design)


def nogueira_corr_parts(Z: np.ndarray, C: np.ndarray, design: Design) -> Parts:
    Z = np.asarray(Z, dtype=float)
    C = np.asarray(C, dtype=float)
    M, d = Z.shape
    if M < 2:
        return Parts(math.nan, None, "needs at least 2 runs")
    k = Z.sum(axis=1)
    if _defined_sizes(k, d):
        return Parts(math.nan, None, "undefined: every run selects every term or none")
    unit = design.unit()

    def kernel(U: np.ndarray) -> np.ndarray:
        q = np.einsum("ij,jk,ik->i", U, C, U)
        return (q[:, None] + q[None, :] - 2 * (U @ C @ U.T)) / 2

    sums = set_sums(Z, unit, kernel)
    k1, k2 = unit_means(k, unit), unit_means(k * (k - 1), unit)
    trace, total_c = float(np.trace(C)), float(C.sum())

    def phi_c(numerator, kbar, kk, pairs):
        diag = (kbar / d) * (1 - kbar / d)
        off = kk / (d * (d - 1)) - (kbar / d) ** 2
        denominator = diag * trace + off * (total_c - trace)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(denominator != 0, 1 - (numerator / pairs) / denominator, np.nan)

    G = sums.n
    value = float(phi_c(sums.total, k1.mean(), k2.mean(), G * (G - 1)))
    if G < 3:
        return Parts(value, np.full(G, math.nan))
    out = phi_c(
        sums.total - 2 * sums.per_unit,
        (k1.sum() - k1) / (G - 1),
        (k2.sum() - k2) / (G - 1),
        (G - 1) * (G - 2),
    )
    return Parts(value, np.asarray(out, dtype=float))


def _sizes_sum(U: np.ndarray) -> np.ndarray:
    sizes = U.sum(axis=1)
    return sizes[:, None] + sizes[None, :]


def pairwise(Z: np.ndarray, design: Design, kernel: Callable[[np.ndarray], np.ndarray]) -> Estimate:
    """The mean of a set kernel over pairs of runs across split seeds, with its interval."""
    if len(Z) < 2:
        return Estimate.undefined("needs at least 2 runs")
    sums = set_sums(np.asarray(Z, dtype=float), design.unit(), kernel)
    return intervals.from_left_out(sums.mean(), sums.left_out(), _what(design))


def jaccard(Z: np.ndarray, design: Design) -> Estimate:
    """Mean Jaccard index |A n B| / |A u B| over pairs across split seeds."""
    return pairwise((np.asarray(Z) > 0).astype(float), design, stability.jaccard_matrix)


def kuncheva(Z: np.ndarray, design: Design) -> Estimate:
    """Mean Kuncheva index (r d - k^2) / (k (d - k)) over pairs across split seeds; sets of one
    size k. At fixed k it equals Phi (Nogueira et al. 2018): reported for the literature that
    quotes it, not as a second opinion."""
    if stability.kuncheva_matrix(np.unique(np.asarray(Z), axis=0)) is None:
        return Estimate.undefined(stability.ONE_SIZE)
    return pairwise(Z, design, stability.kuncheva_matrix)


def rbo(scores: np.ndarray, design: Design, p: float = 0.8) -> Estimate:
    """Mean rank-biased overlap of the full rankings over pairs across split seeds. RBO is
    linear in the pair's overlap at each depth t, so a unit's sums need only its runs' mean
    top-t memberships: O(M d^2), never a matrix over runs."""
    if not 0 < p < 1:
        raise ValueError(f"rbo p={p} must be in (0, 1)")
    scores = np.atleast_2d(scores)
    M, d = scores.shape
    if M < 2:
        return Estimate.undefined("needs at least 2 runs")
    unit = design.unit()
    G = int(unit.max()) + 1
    orders = np.argsort(-scores, axis=1, kind="stable")
    position = np.empty_like(orders)
    np.put_along_axis(position, orders, np.arange(d)[None, :].repeat(M, axis=0), axis=1)
    size = np.bincount(unit, minlength=G).astype(float)
    per_unit = np.zeros(G)
    for t in range(1, d + 1):
        member = (position < t).astype(float)
        means = np.zeros((G, d))
        np.add.at(means, unit, member / size[unit, None])
        total = means.sum(axis=0)
        per_unit += (1 - p) * p ** (t - 1) / t * (means @ total - np.sum(means * means, axis=1))
    per_unit += (G - 1) * p**d
    sums = Sums(float(per_unit.sum()), per_unit)
    return intervals.from_left_out(sums.mean(), sums.left_out(), _what(design))


def within(Z: np.ndarray, design: Design, measure: Callable[[np.ndarray], Estimate]) -> float:
    """A measure over the runs of each split seed that has several, averaged over those split
    seeds: the stability under the model's own randomness, the data held fixed."""
    values = []
    for g in range(design.n_groups):
        rows = np.flatnonzero(design.groups == g)
        if len(rows) >= 2:
            est = measure(Z[rows])
            if est.defined:
                values.append(est.value)
    return float(np.mean(values)) if values else math.nan


def mean(values: np.ndarray, design: Design) -> Estimate:
    """The mean of a per-run score over split seeds (each split seed's runs averaged first),
    with the delete-a-split jackknife's interval: for a mean, the t interval over the split
    seeds' means."""
    values = np.asarray(values, dtype=float)
    keep = ~np.isnan(values)
    if not keep.any():
        return Estimate.undefined("no values")
    sub = design.subset(np.flatnonzero(keep))
    unit = sub.unit()
    by_unit = unit_means(values[keep], unit)
    G = len(by_unit)
    value = float(by_unit.mean())
    left = (by_unit.sum() - by_unit) / (G - 1) if G >= 2 else np.full(G, math.nan)
    return intervals.from_left_out(value, left, _what(sub))
