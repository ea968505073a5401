"""Each measure against values worked out by hand, the identities of docs/stability.md, and the
interval's coverage in a seeded simulation."""

import itertools
import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from ebm_study import stability as st

# Three runs, five terms, top 2: {a, b}, {a, b}, {a, c}.
Z3 = np.array([[1, 1, 0, 0, 0], [1, 1, 0, 0, 0], [1, 0, 1, 0, 0]])


def test_nogueira_by_hand():
    # p = (1, 2/3, 1/3, 0, 0), kbar = 2; s^2 = 3/2 p(1-p) -> mean 2/15;
    # Phi = 1 - (2/15) / (2/5 * 3/5) = 4/9.
    assert st.nogueira(Z3).value == pytest.approx(4 / 9)
    # {a, b} vs {a, c} of four terms: overlap exactly at chance.
    assert st.nogueira(np.array([[1, 1, 0, 0], [1, 0, 1, 0]])).value == pytest.approx(0.0)


def test_kuncheva_by_hand():
    a, b, c = Z3
    assert st.kuncheva_index(a, b) == pytest.approx(1.0)
    assert st.kuncheva_index(a, c) == pytest.approx((1 * 5 - 4) / (2 * 3))
    assert st.kuncheva(Z3).value == pytest.approx((1 + 1 / 6 + 1 / 6) / 3)


def test_nogueira_equals_mean_kuncheva_for_fixed_k():
    rng = np.random.default_rng(7)
    for _ in range(20):
        scores = rng.normal(size=(9, 30)) + np.linspace(2, 0, 30)
        Z = st.top_k(scores, 5)
        assert st.nogueira(Z).value == pytest.approx(st.kuncheva(Z).value, abs=1e-12)


def test_identical_selections_are_perfectly_stable_with_no_doubt():
    est = st.nogueira(np.tile(Z3[0], (6, 1)))
    assert (est.value, est.ci_low, est.ci_high) == pytest.approx((1.0, 1.0, 1.0))


def test_degenerate_cases_say_why_instead_of_dividing_by_zero():
    one = st.nogueira(Z3[:1])
    assert not one.defined and "at least 2 runs" in one.note
    everything = st.nogueira(np.ones((4, 5), dtype=int))
    assert not everything.defined and "every term" in everything.note
    nothing = st.nogueira(np.zeros((4, 5), dtype=int))
    assert not nothing.defined
    assert not st.kuncheva(np.ones((3, 5), dtype=int)).defined
    assert math.isnan(st.kendall_w(np.array([[1.0, 2.0]])).w)


def test_top_k_marks_exactly_k_terms_and_breaks_ties_by_position():
    Z = st.top_k(np.array([[0.5, 0.9, 0.5, 0.1]]), 2)
    assert Z.tolist() == [[1, 1, 0, 0]]
    assert st.top_k(np.array([[3.0, 2.0, 1.0]]), 5).sum() == 3


def test_jaccard_by_hand_and_its_chance_level():
    a, b, c = Z3
    assert st.jaccard_index(a, c) == pytest.approx(1 / 3)
    assert st.jaccard(Z3).value == pytest.approx((1 + 1 / 3 + 1 / 3) / 3)
    assert st.jaccard_chance(1, 2) == pytest.approx(0.5)
    # docs/stability.md: random top-5 of 30 give J near 0.09 to 0.10.
    assert st.jaccard_chance(5, 30) == pytest.approx(0.0993, abs=5e-4)
    rng = np.random.default_rng(0)
    sims = [
        st.jaccard_index(st.top_k(rng.random((1, 30)), 5)[0], st.top_k(rng.random((1, 30)), 5)[0])
        for _ in range(20000)
    ]
    assert np.mean(sims) == pytest.approx(st.jaccard_chance(5, 30), abs=0.005)


def test_rbo_by_hand():
    # A_1 = 0, A_2 = 1, A_3 = 1 with p = 0.5: 0.5 (0 + 0.5 + 0.25) + 0.125 = 0.5.
    assert st.rbo_index(np.array([0, 1, 2]), np.array([1, 0, 2]), p=0.5) == pytest.approx(0.5)
    assert st.rbo_index(np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]), p=0.8) == pytest.approx(1)
    # Fully reversed: A = (0, 0, 2/3, 1); 0.2 (0.64 * 2/3 + 0.512) + 0.8^4.
    reversed_ = st.rbo_index(np.arange(4), np.arange(4)[::-1], p=0.8)
    assert reversed_ == pytest.approx(0.2 * (0.64 * 2 / 3 + 0.512) + 0.8**4)


def test_rbo_of_identical_rankings_is_one_and_weights_the_top():
    scores = np.array([np.linspace(1, 0, 30)] * 3)
    assert st.rbo(scores).value == pytest.approx(1.0)
    top_swap = scores.copy()
    top_swap[1, [0, 1]] = top_swap[1, [1, 0]]
    tail_swap = scores.copy()
    tail_swap[1, [28, 29]] = tail_swap[1, [29, 28]]
    assert st.rbo(top_swap).value < st.rbo(tail_swap).value < 1.0
    with pytest.raises(ValueError, match="p=1"):
        st.rbo_index(np.arange(3), np.arange(3), p=1)


def test_kendall_w_by_hand_with_ties():
    # Rank sums (2, 4.5, 5.5), S = 6.5; ties T = 2^3 - 2 = 6; W = 12 * 6.5 / (4 * 24 - 2 * 6).
    result = st.kendall_w(np.array([[1, 2, 3], [1, 2.5, 2.5]]))
    assert result.w == pytest.approx(78 / 84)
    assert st.kendall_w(np.array([[1, 2, 3, 4]] * 3)).w == pytest.approx(1.0)


def test_kendall_w_matches_mean_spearman():
    rng = np.random.default_rng(3)
    R = st.ranks(rng.normal(size=(7, 12)) + np.linspace(4, 0, 12))
    m = len(R)
    w = st.kendall_w(R)
    mean_rho = np.mean([spearmanr(R[i], R[j])[0] for i, j in itertools.combinations(range(m), 2)])
    assert (m * w.w - 1) / (m - 1) == pytest.approx(mean_rho)
    assert w.chi2 == pytest.approx(m * 11 * w.w) and 0 <= w.p_value < 0.05


def test_wilson_interval_known_values():
    low, high = st.wilson(np.array([0, 5, 10]), 10)
    assert low[0] == 0 and high[0] == pytest.approx(0.2775, abs=1e-4)
    assert (low[1], high[1]) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert high[2] == pytest.approx(1) and low[2] == pytest.approx(0.7225, abs=1e-4)


def test_boundary_gap_is_kth_minus_next():
    gap = st.boundary_gap(np.array([[5.0, 4.0, 3.0, 1.0], [1.0, 2.0, 3.0, 2.5]]), k=2)
    assert gap.tolist() == pytest.approx([1.0, 0.5])
    assert np.isnan(st.boundary_gap(np.array([[1.0, 2.0]]), k=2)).all()


def test_pairwise_mean_uses_run_level_spread():
    S = np.array([[1, 0.5, 0.2], [0.5, 1, 0.8], [0.2, 0.8, 1]])
    est = st.pairwise_mean(S)
    assert est.value == pytest.approx(0.5)
    phi_i = np.array([0.35, 0.65, 0.5])
    half = st.Z95 * math.sqrt(4 / 9 * np.sum((phi_i - phi_i.mean()) ** 2))
    assert (est.ci_low, est.ci_high) == pytest.approx((0.5 - half, 0.5 + half))


def test_nogueira_interval_covers_the_truth_at_about_its_nominal_rate():
    """Seeded simulation: runs draw noisy scores around a fixed importance profile."""
    rng = np.random.default_rng(2024)
    base = np.linspace(2.0, 0.0, 30)

    def sample(m):
        return st.top_k(base + rng.normal(scale=0.25, size=(m, 30)), 5)

    truth = st.nogueira(sample(20000)).value
    reps, covered = 400, 0
    for _ in range(reps):
        est = st.nogueira(sample(25))
        covered += est.ci_low <= truth <= est.ci_high
    assert 0.5 < truth < 0.9  # a middling stability, where the interval matters
    assert 0.90 <= covered / reps <= 0.985


def test_nogueira_test_of_greater_stability():
    high = st.Estimate(0.8, 0.7, 0.9)
    assert st.nogueira_test(high, 0.6)
    assert not st.nogueira_test(high, 0.75)


def test_intervals_need_three_runs_and_use_the_jackknife_below_ten():
    rng = np.random.default_rng(3)
    two = st.top_k(rng.random((2, 12)), 4)
    est = st.sized_interval(st.nogueira(two), two, st.nogueira)
    assert est.value == st.nogueira(two).value  # the value stands
    assert math.isnan(est.ci_low) and "no interval with 2 runs" in est.note

    five = st.top_k(rng.random((5, 12)), 4)
    est = st.sized_interval(st.nogueira(five), five, st.nogueira)
    # By hand: the leave-one-out values, their jackknife variance, a t interval on 4 df.
    loo = np.array([st.nogueira(np.delete(five, i, axis=0)).value for i in range(5)])
    half = 2.7764451051977987 * math.sqrt(4 / 5 * np.sum((loo - loo.mean()) ** 2))
    assert est.value == st.nogueira(five).value
    assert est.ci_low == pytest.approx(est.value - half, abs=1e-12)
    assert est.ci_high == pytest.approx(est.value + half, abs=1e-12)

    many = st.top_k(rng.random((12, 12)), 4)
    assert st.sized_interval(st.nogueira(many), many, st.nogueira) == (
        st.nogueira(many)
    )  # ten runs or more: the asymptotic interval, unchanged
