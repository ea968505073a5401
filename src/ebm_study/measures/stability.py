"""How stable a top-k is across runs: the measures of docs/stability.md, pure numpy.

Inputs are matrices with one row a run and one column a term: importance scores S (M x d),
full ranks R (1 = most important) and the 0/1 top-k membership Z. Nothing here knows MLflow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # two-sided 95% normal quantile


@dataclass(frozen=True)
class Estimate:
    """A value with its 95% interval, or the reason it is undefined (then value is nan)."""

    value: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    note: str = ""

    @classmethod
    def undefined(cls, why: str) -> Estimate:
        return cls(math.nan, note=why)

    @property
    def defined(self) -> bool:
        return not math.isnan(self.value)


# ---------------------------------------------------------------------------------------------
# From scores to ranks and top-k sets


def ranks(scores: np.ndarray) -> np.ndarray:
    """Full rank of each term within its run, 1 = most important; ties share their mean rank."""
    from scipy import stats  # imported on use: scipy.stats costs a second at start-up

    return stats.rankdata(-np.atleast_2d(scores), method="average", axis=1)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """0/1 matrix Z: Z[i, f] = 1 when term f is among the k most important of run i.

    Ties at the boundary go to the term listed first, so every row has exactly min(k, d) ones.
    """
    scores = np.atleast_2d(scores)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    Z = np.zeros(scores.shape, dtype=int)
    np.put_along_axis(Z, order, 1, axis=1)
    return Z


# ---------------------------------------------------------------------------------------------
# 1. Nogueira, Sechidis & Brown (JMLR 2018): the headline estimator with its variance


def nogueira(Z: np.ndarray) -> Estimate:
    """Nogueira's stability Phi of the selections in Z (M x d), with its 95% interval.

    1 only when every selection is the same, 0 in expectation for random selections; defined
    for sets of differing sizes. Undefined for fewer than 2 runs, or when every run selects
    nothing or everything (kbar = 0 or d).
    """
    Z = np.asarray(Z, dtype=float)
    M, d = Z.shape
    if M < 2:
        return Estimate.undefined("needs at least 2 runs")
    p = Z.mean(axis=0)
    kbar = p.sum()
    if kbar == 0 or kbar == d:
        return Estimate.undefined(
            "undefined: every run selects every term" if kbar == d else "no run selects a term"
        )
    denom = (kbar / d) * (1 - kbar / d)
    s2 = M / (M - 1) * p * (1 - p)
    phi = 1 - s2.mean() / denom
    k = Z.sum(axis=1)
    phi_i = (
        (Z @ p) / d - k * kbar / d**2 + (phi / 2) * (2 * k * kbar / d**2 - k / d - kbar / d + 1)
    ) / denom
    variance = 4 / M**2 * np.sum((phi_i - phi_i.mean()) ** 2)
    half = Z95 * math.sqrt(variance)
    return Estimate(float(phi), float(phi - half), float(phi + half))


def nogueira_test(estimate: Estimate, phi0: float, n_sd: float = Z95) -> bool:
    """Is stability greater than phi0? (Phi - phi0) / sqrt(v) >= z; z is the interval's."""
    if not estimate.defined:
        return False
    sd = (estimate.ci_high - estimate.value) / Z95
    return estimate.value > phi0 if sd == 0 else (estimate.value - phi0) / sd >= n_sd


# ---------------------------------------------------------------------------------------------
# The correlation-aware Phi: swaps between near-twin terms count as agreement


def nogueira_corr(Z: np.ndarray, C: np.ndarray) -> Estimate:
    """The correlation-aware stability of Sechidis, Papangelou, Nogueira, Weatherall & Brown
    (ECML-PKDD 2019): Phi_C = 1 - sum(C o S) / sum(C o Sigma0), S the unbiased covariance of
    Z's columns, Sigma0 its expectation under random selection of the same sizes (kbar/d
    (1 - kbar/d) on the diagonal, mean(k_i (k_i - 1))/(d (d - 1)) - (kbar/d)^2 off it), C the
    0/1 redundancy matrix: swaps between redundant terms count as agreement. With C = I it is
    Nogueira's Phi, returned as `nogueira` computes it. No interval here (`jackknife`)."""
    Z = np.asarray(Z, dtype=float)
    C = np.asarray(C, dtype=float)
    if np.array_equal(C, np.eye(len(C))):
        plain = nogueira(Z)
        return Estimate(plain.value, note=plain.note)
    M, d = Z.shape
    if M < 2:
        return Estimate.undefined("needs at least 2 runs")
    k = Z.sum(axis=1)
    kbar = k.mean()
    if kbar == 0 or kbar == d:
        return Estimate.undefined("undefined: every run selects every term or none")
    S = np.cov(Z, rowvar=False, ddof=1)
    off = float(np.mean(k * (k - 1))) / (d * (d - 1)) - (kbar / d) ** 2
    sigma0 = np.full((d, d), off)
    np.fill_diagonal(sigma0, (kbar / d) * (1 - kbar / d))
    return Estimate(float(1 - np.sum(C * S) / np.sum(C * sigma0)))


# ---------------------------------------------------------------------------------------------
# Pairwise similarities and the U-statistic interval of their mean


def pairwise_mean(similarity: np.ndarray) -> Estimate:
    """Mean of S[i, j] over pairs i < j, with a U-statistic 95% interval.

    Pairs share runs, so the spread of pair values understates the uncertainty; the variance
    comes from each run's mean similarity to the others, phi_i (Nogueira et al. 2018, eq. 9).
    """
    S = np.asarray(similarity, dtype=float)
    M = S.shape[0]
    if M < 2:
        return Estimate.undefined("needs at least 2 runs")
    return _u_statistic((S.sum(axis=1) - np.diag(S)) / (M - 1), np.ones(M))


def _u_statistic(phi: np.ndarray, counts: np.ndarray) -> Estimate:
    """The mean over pairs and its interval from each run's mean similarity to the others,
    `phi`, given once for each of `counts` identical runs (the mean over pairs of a symmetric
    S is the mean of phi_i)."""
    M = counts.sum()
    mean = float(counts @ phi / M)
    variance = 4 / M**2 * float(counts @ (phi - mean) ** 2)
    half = Z95 * math.sqrt(variance)
    return Estimate(mean, mean - half, mean + half)


def distinct_set_mean(Z: np.ndarray, similarity: Callable[[np.ndarray], np.ndarray]) -> Estimate:
    """`pairwise_mean` of a set similarity over the rows of Z, computed on the distinct rows
    only, weighted by how often each occurs: runs repeat top-k sets, so 10,000 runs hold a few
    hundred distinct ones, and memory and time follow the distinct sets, not M^2.
    `similarity(U)` is the matrix of the measure between the rows of U."""
    M = Z.shape[0]
    if M < 2:
        return Estimate.undefined("needs at least 2 runs")
    unique, counts = np.unique(Z, axis=0, return_counts=True)
    S = similarity(unique)
    # Row sums over the other runs: every copy of every set, less the run itself.
    phi = (S @ counts - np.diag(S)) / (M - 1)
    return _u_statistic(phi, counts.astype(float))


# 2. Kuncheva (AIAP 2007): chance-corrected overlap of two sets of the same size k


def kuncheva_index(a: np.ndarray, b: np.ndarray) -> float:
    """(r d - k^2) / (k (d - k)) for two 0/1 rows with k ones each, 0 < k < d."""
    d, k = len(a), int(a.sum())
    if int(b.sum()) != k or not 0 < k < d:
        raise ValueError(f"Kuncheva's index needs two sets of one size k with 0 < k < d={d}")
    r = int(np.sum((a > 0) & (b > 0)))
    return (r * d - k * k) / (k * (d - k))


def kuncheva_matrix(U: np.ndarray) -> np.ndarray | None:
    """Kuncheva's index between every two rows of U (sets of one size k, 0 < k < d); None when
    the rows are not such sets. `kuncheva` and by_split's take their pairs' mean."""
    U = np.asarray(U, dtype=float)
    d = U.shape[1]
    sizes = set(U.sum(axis=1).astype(int).tolist())
    k = sizes.pop() if len(sizes) == 1 else -1
    if not 0 < k < d:
        return None
    return ((U @ U.T) * d - k * k) / (k * (d - k))


ONE_SIZE = "needs sets of one size k with 0 < k < number of terms"


def kuncheva(Z: np.ndarray) -> Estimate:
    """Mean pairwise Kuncheva index of the rows of Z, with its interval."""
    if kuncheva_matrix(np.unique(np.asarray(Z), axis=0)) is None:
        return Estimate.undefined(ONE_SIZE)
    return distinct_set_mean(np.asarray(Z, dtype=float), kuncheva_matrix)


# 3. Jaccard: familiar, not chance-corrected; reported with its chance level


def jaccard_index(a: np.ndarray, b: np.ndarray) -> float:
    union = np.sum((a > 0) | (b > 0))
    return float(np.sum((a > 0) & (b > 0)) / union) if union else 1.0


def jaccard_matrix(U: np.ndarray) -> np.ndarray:
    """The Jaccard index between every two rows of the 0/1 matrix U (1 for two empty sets)."""
    inter = U @ U.T
    sizes = U.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - inter
    return np.divide(inter, union, out=np.ones_like(inter), where=union > 0)


def jaccard(Z: np.ndarray) -> Estimate:
    """Mean pairwise Jaccard index |A n B| / |A u B| of the rows of Z, with its interval."""
    return distinct_set_mean((np.asarray(Z) > 0).astype(float), jaccard_matrix)


def jaccard_chance(k: int, d: int) -> float:
    """Expected Jaccard index of two independent uniformly random k-subsets of d terms."""
    if not 0 < k <= d:
        return math.nan
    from scipy import stats

    r = np.arange(0, k + 1)
    pmf = stats.hypergeom(d, k, k).pmf(r)
    return float(np.sum(pmf * r / (2 * k - r)))


# 4. Webber, Moffat & Zobel (ACM TOIS 2010): rank-biased overlap of full rankings


def rbo_index(order_a: np.ndarray, order_b: np.ndarray, p: float = 0.8) -> float:
    """RBO of two complete rankings of the same d terms (arrays of term ids, best first).

    With both lists complete, agreement at every depth beyond d is 1, so the sum closes exactly:
    (1 - p) sum_{t<=d} p^(t-1) A_t + p^d. Identical rankings give 1. p = 1 would be plain
    average overlap, not RBO.
    """
    if not 0 < p < 1:
        raise ValueError(f"rbo p={p} must be in (0, 1)")
    d = len(order_a)
    seen_a: set = set()
    seen_b: set = set()
    overlap = 0
    total = 0.0
    for t in range(1, d + 1):
        x, y = order_a[t - 1], order_b[t - 1]
        if x == y:
            overlap += 1
        else:
            overlap += (x in seen_b) + (y in seen_a)
        seen_a.add(x)
        seen_b.add(y)
        total += p ** (t - 1) * overlap / t
    return (1 - p) * total + p**d


def rbo(scores: np.ndarray, p: float = 0.8) -> Estimate:
    """Mean pairwise RBO of the runs' full rankings, with its interval (`rbo_index` is the
    same sum for one pair)."""
    if not 0 < p < 1:
        raise ValueError(f"rbo p={p} must be in (0, 1)")
    scores = np.atleast_2d(scores)
    M, d = scores.shape
    orders = np.argsort(-scores, axis=1, kind="stable")
    position = np.empty_like(orders)
    np.put_along_axis(position, orders, np.arange(d)[None, :].repeat(M, axis=0), axis=1)
    if M < 2:
        return Estimate.undefined("needs at least 2 runs")
    # RBO is linear in the pair overlaps, so each run's sum over the others needs only the
    # column sums of the top-t memberships: O(M d^2), never an M x M matrix. A run's overlap
    # with itself at depth t is t.
    others = np.zeros(M)
    for t in range(1, d + 1):
        member = (position < t).astype(float)
        others += p ** (t - 1) * (member @ member.sum(axis=0) - t) / t
    return _u_statistic(((1 - p) * others + (M - 1) * p**d) / (M - 1), np.ones(M))


# 5. Kendall's W over full rankings (context: it rewards agreement on the unimportant tail)


@dataclass(frozen=True)
class Concordance:
    w: float
    chi2: float
    p_value: float


def kendall_w(R: np.ndarray) -> Concordance:
    """Kendall's coefficient of concordance of m rankings (rows) of n items, ties corrected."""
    R = np.atleast_2d(np.asarray(R, dtype=float))
    m, n = R.shape
    if m < 2 or n < 2:
        return Concordance(math.nan, math.nan, math.nan)
    sums = R.sum(axis=0)
    S = np.sum((sums - sums.mean()) ** 2)
    T = 0.0
    for row in R:
        _, counts = np.unique(row, return_counts=True)
        T += np.sum(counts**3 - counts)
    denom = m**2 * (n**3 - n) - m * T
    if denom == 0:
        return Concordance(math.nan, math.nan, math.nan)
    from scipy import stats

    w = 12 * S / denom
    chi2 = m * (n - 1) * w
    return Concordance(float(w), float(chi2), float(stats.chi2.sf(chi2, n - 1)))


# 6. How close each run's top k is to a tie


def boundary_gap(scores: np.ndarray, k: int) -> np.ndarray:
    """Per run, importance of its k-th term minus its (k+1)-th: near 0, the top k is a tie."""
    ordered = -np.sort(-np.atleast_2d(scores), axis=1)
    if ordered.shape[1] <= k:
        return np.full(ordered.shape[0], math.nan)
    return ordered[:, k - 1] - ordered[:, k]
