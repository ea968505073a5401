"""Each measure against values worked out by hand, the identities of docs/stability.md, and the
interval's coverage in a seeded simulation."""

import itertools
import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from ebm_study.measures import stability

# Three runs, five terms, top 2: {a, b}, {a, b}, {a, c}.
Z3 = np.array([[1, 1, 0, 0, 0], [1, 1, 0, 0, 0], [1, 0, 1, 0, 0]])


def test_nogueira_by_hand():
    # p = (1, 2/3, 1/3, 0, 0), kbar = 2; s^2 = 3/2 p(1-p) -> mean 2/15;
    # Phi = 1 - (2/15) / (2/5 * 3/5) = 4/9.
    assert stability.nogueira(Z3).value == pytest.approx(4 / 9)
    # {a, b} vs {a, c} of four terms: overlap exactly at chance.
    assert stability.nogueira(np.array([[1, 1, 0, 0], [1, 0, 1, 0]])).value == pytest.approx(0.0)


def test_kuncheva_by_hand():
    a, b, c = Z3
    assert stability.kuncheva_index(a, b) == pytest.approx(1.0)
    assert stability.kuncheva_index(a, c) == pytest.approx((1 * 5 - 4) / (2 * 3))
    assert stability.kuncheva(Z3).value == pytest.approx((1 + 1 / 6 + 1 / 6) / 3)


def test_nogueira_equals_mean_kuncheva_for_fixed_k():
    rng = np.random.default_rng(7)
    for _ in range(20):
        scores = rng.normal(size=(9, 30)) + np.linspace(2, 0, 30)
        Z = stability.top_k(scores, 5)
        assert stability.nogueira(Z).value == pytest.approx(stability.kuncheva(Z).value, abs=1e-12)


def test_identical_selections_are_perfectly_stable_with_no_doubt():
    est = stability.nogueira(np.tile(Z3[0], (6, 1)))
    assert (est.value, est.ci_low, est.ci_high) == pytest.approx((1.0, 1.0, 1.0))


def test_degenerate_cases_say_why_instead_of_dividing_by_zero():
    one = stability.nogueira(Z3[:1])
    assert not one.defined and "at least 2 runs" in one.note
    everything = stability.nogueira(np.ones((4, 5), dtype=int))
    assert not everything.defined and "every term" in everything.note
    nothing = stability.nogueira(np.zeros((4, 5), dtype=int))
    assert not nothing.defined
    assert not stability.kuncheva(np.ones((3, 5), dtype=int)).defined
    assert math.isnan(stability.kendall_w(np.array([[1.0, 2.0]])).w)


def test_top_k_marks_exactly_k_terms_and_breaks_ties_by_position():
    Z = stability.top_k(np.array([[0.5, 0.9, 0.5, 0.1]]), 2)
    assert Z.tolist() == [[1, 1, 0, 0]]
    assert stability.top_k(np.array([[3.0, 2.0, 1.0]]), 5).sum() == 3


def test_jaccard_by_hand_and_its_chance_level():
    a, b, c = Z3
    assert stability.jaccard_index(a, c) == pytest.approx(1 / 3)
    assert stability.jaccard(Z3).value == pytest.approx((1 + 1 / 3 + 1 / 3) / 3)
    assert stability.jaccard_chance(1, 2) == pytest.approx(0.5)
    # docs/stability.md: random top-5 of 30 give J near 0.09 to 0.10.
    assert stability.jaccard_chance(5, 30) == pytest.approx(0.0993, abs=5e-4)
    rng = np.random.default_rng(0)
    sims = [
        stability.jaccard_index(
            stability.top_k(rng.random((1, 30)), 5)[0], stability.top_k(rng.random((1, 30)), 5)[0]
        )
        for _ in range(20000)
    ]
    assert np.mean(sims) == pytest.approx(stability.jaccard_chance(5, 30), abs=0.005)


def test_rbo_by_hand():
    # A_1 = 0, A_2 = 1, A_3 = 1 with p = 0.5: 0.5 (0 + 0.5 + 0.25) + 0.125 = 0.5.
    assert stability.rbo_index(np.array([0, 1, 2]), np.array([1, 0, 2]), p=0.5) == pytest.approx(
        0.5
    )
    assert stability.rbo_index(
        np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]), p=0.8
    ) == pytest.approx(1)
    # Fully reversed: A = (0, 0, 2/3, 1); 0.2 (0.64 * 2/3 + 0.512) + 0.8^4.
    reversed_ = stability.rbo_index(np.arange(4), np.arange(4)[::-1], p=0.8)
    assert reversed_ == pytest.approx(0.2 * (0.64 * 2 / 3 + 0.512) + 0.8**4)


def test_rbo_of_identical_rankings_is_one_and_weights_the_top():
    scores = np.array([np.linspace(1, 0, 30)] * 3)
    assert stability.rbo(scores).value == pytest.approx(1.0)
    top_swap = scores.copy()
    top_swap[1, [0, 1]] = top_swap[1, [1, 0]]
    tail_swap = scores.copy()
    tail_swap[1, [28, 29]] = tail_swap[1, [29, 28]]
    assert stability.rbo(top_swap).value < stability.rbo(tail_swap).value < 1.0
    with pytest.raises(ValueError, match="p=1"):
        stability.rbo_index(np.arange(3), np.arange(3), p=1)


def test_kendall_w_by_hand_with_ties():
    # Rank sums (2, 4.5, 5.5), S = 6.5; ties T = 2^3 - 2 = 6; W = 12 * 6.5 / (4 * 24 - 2 * 6).
    result = stability.kendall_w(np.array([[1, 2, 3], [1, 2.5, 2.5]]))
    assert result.w == pytest.approx(78 / 84)
    assert stability.kendall_w(np.array([[1, 2, 3, 4]] * 3)).w == pytest.approx(1.0)


def test_kendall_w_matches_mean_spearman():
    rng = np.random.default_rng(3)
    R = stability.ranks(rng.normal(size=(7, 12)) + np.linspace(4, 0, 12))
    m = len(R)
    w = stability.kendall_w(R)
    mean_rho = np.mean([spearmanr(R[i], R[j])[0] for i, j in itertools.combinations(range(m), 2)])
    assert (m * w.w - 1) / (m - 1) == pytest.approx(mean_rho)
    assert w.chi2 == pytest.approx(m * 11 * w.w) and 0 <= w.p_value < 0.05


def test_boundary_gap_is_kth_minus_next():
    gap = stability.boundary_gap(np.array([[5.0, 4.0, 3.0, 1.0], [1.0, 2.0, 3.0, 2.5]]), k=2)
    assert gap.tolist() == pytest.approx([1.0, 0.5])
    assert np.isnan(stability.boundary_gap(np.array([[1.0, 2.0]]), k=2)).all()


def test_pairwise_mean_uses_run_level_spread():
    S = np.array([[1, 0.5, 0.2], [0.5, 1, 0.8], [0.2, 0.8, 1]])
    est = stability.pairwise_mean(S)
    assert est.value == pytest.approx(0.5)
    phi_i = np.array([0.35, 0.65, 0.5])
    half = stability.Z95 * math.sqrt(4 / 9 * np.sum((phi_i - phi_i.mean()) ** 2))
    assert (est.ci_low, est.ci_high) == pytest.approx((0.5 - half, 0.5 + half))


def test_nogueira_interval_covers_the_truth_at_about_its_nominal_rate():
    """Seeded simulation: runs draw noisy scores around a fixed importance profile."""
    rng = np.random.default_rng(2024)
    base = np.linspace(2.0, 0.0, 30)

    def sample(m):
        return stability.top_k(base + rng.normal(scale=0.25, size=(m, 30)), 5)

    truth = stability.nogueira(sample(20000)).value
    reps, covered = 400, 0
    for _ in range(reps):
        est = stability.nogueira(sample(25))
        covered += est.ci_low <= truth <= est.ci_high
    assert 0.5 < truth < 0.9  # a middling stability, where the interval matters
    assert 0.90 <= covered / reps <= 0.985


def test_nogueira_test_of_greater_stability():
    high = stability.Estimate(0.8, 0.7, 0.9)
    assert stability.nogueira_test(high, 0.6)
    assert not stability.nogueira_test(high, 0.75)


# ---------------------------------------------------------------------------------------------
# The functions the study calls, against brute force by their definitions


def _pairs_u_interval(S: np.ndarray) -> tuple[float, float, float]:
    """Mean over pairs i < j of S and the U-statistic interval, from each run's mean to the
    others (Nogueira et al. 2018, eq. 9), written out over every pair."""
    M = len(S)
    mean = np.mean([S[i, j] for i, j in itertools.combinations(range(M), 2)])
    phi = np.array([np.mean([S[i, j] for j in range(M) if j != i]) for i in range(M)])
    half = 1.959963984540054 * math.sqrt(4 / M**2 * np.sum((phi - phi.mean()) ** 2))
    return mean, mean - half, mean + half


def test_jaccard_and_kuncheva_as_the_study_computes_them_are_the_pairwise_means():
    rng = np.random.default_rng(7)
    Z = stability.top_k(rng.random((13, 8)) + np.linspace(1, 0, 8), 3)  # repeated sets
    assert len(np.unique(Z, axis=0)) < len(Z)
    for measure, index in ((stability.jaccard, stability.jaccard_index),
                           (stability.kuncheva, stability.kuncheva_index)):  # fmt: skip
        S = np.array([[index(a, b) for b in Z] for a in Z])
        est = measure(Z)
        assert (est.value, est.ci_low, est.ci_high) == pytest.approx(_pairs_u_interval(S))


def test_distinct_set_mean_weights_each_set_by_how_often_it_occurs():
    Z = np.array([[1, 1, 0, 0]] * 5 + [[1, 0, 1, 0]] * 2 + [[0, 0, 1, 1]])
    est = stability.distinct_set_mean(
        Z, lambda U: np.array([[stability.jaccard_index(a, b) for b in U] for a in U])
    )
    S = np.array([[stability.jaccard_index(a, b) for b in Z] for a in Z])
    assert (est.value, est.ci_low, est.ci_high) == pytest.approx(_pairs_u_interval(S))
    # By hand: 10 pairs of {a,b}x{a,b} at 1, 10 {a,b}x{a,c} at 1/3, 1 {a,c}x{a,c} at 1,
    # 2 {a,c}x{c,d} at 1/3, 5 {a,b}x{c,d} at 0: (10 + 10/3 + 1 + 2/3) / 28.
    assert est.value == pytest.approx((10 + 10 / 3 + 1 + 2 / 3) / 28)


def test_rbo_as_the_study_computes_it_is_the_mean_of_the_pairs_rbo():
    rng = np.random.default_rng(3)
    scores = rng.random((9, 7))
    S = np.array(
        [
            [stability.rbo_index(np.argsort(-a, kind="stable"), np.argsort(-b, kind="stable"))
             for b in scores]
            for a in scores
        ]
    )  # fmt: skip
    est = stability.rbo(scores, 0.8)
    assert (est.value, est.ci_low, est.ci_high) == pytest.approx(_pairs_u_interval(S))
    assert stability.rbo(scores, 0.9).value == pytest.approx(
        np.mean([
            stability.rbo_index(np.argsort(-scores[i], kind="stable"),
                                np.argsort(-scores[j], kind="stable"), 0.9)
            for i, j in itertools.combinations(range(9), 2)
        ])
    )  # fmt: skip
