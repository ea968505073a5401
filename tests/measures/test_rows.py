"""Per-row stability (measures/rows.py): hand-worked cases, the closed forms against brute force
over pairs of runs on different split seeds, and a simulation with a known truth whose
intervals must cover it (and would not, were runs on one split seed taken as independent)."""

import itertools
import math

import numpy as np
import pytest

from ebm_study.measures import intervals, rows
from ebm_study.measures.by_split import Design

# One row, four terms, top-2 sets of four runs: {0,1} {0,1} {0,2} {2,3}, strongest first.
TOP = np.array([[[0, 1]], [[0, 1]], [[0, 2]], [[2, 3]]])


def test_one_run_a_split_seed_is_the_plain_mean_over_pairs_of_runs():
    found = rows.reasons(TOP, 4, Design.independent(4))
    # overlaps of the 6 pairs: 2 1 0 1 0 1, mean 5/6; Kuncheva (5/6*4 - 4) / (2*2) = -1/6
    assert found.set_agreement[0] == pytest.approx(-1 / 6)
    assert found.stability.value == pytest.approx(-1 / 6)
    # top reasons 0 0 0 2: the modal one in 3 of 4 runs, below 90%
    assert found.modal[0] == 0 and found.modal_share[0] == pytest.approx(0.75)
    assert found.agreement == 0.0
    assert found.in_top[0].tolist() == pytest.approx([0.75, 0.5, 0.5, 0.25])


def test_pairs_on_one_split_seed_do_not_count():
    # runs 1-2 on split A, 3-4 on split B: only the 4 pairs across, overlaps 1 0 1 0
    found = rows.reasons(TOP, 4, Design.of(["A", "A", "B", "B"]))
    assert found.set_agreement[0] == pytest.approx((0.5 * 4 - 4) / 4)
    # each split seed's runs weighted alike: A gives 0 always, B half the time
    assert found.modal_share[0] == pytest.approx(0.75)


def test_the_same_reasons_everywhere_agree_fully_and_random_ones_near_zero():
    same = np.tile(np.array([[[3, 1, 0]]]), (6, 40, 1))
    found = rows.reasons(same, 10, Design.of([0, 0, 1, 1, 2, 2]))
    assert found.stability.value == pytest.approx(1.0) and found.agreement == 1.0
    rng = np.random.default_rng(0)
    noise = np.array([[rng.choice(10, 3, replace=False) for _ in range(200)] for _ in range(30)])
    found = rows.reasons(noise, 10, Design.independent(30))
    assert abs(found.stability.value) < 0.03 and found.agreement == 0.0


def test_churn_and_the_regression_spread_by_hand():
    classes = np.array([[0], [0], [1], [1]])
    assert rows.class_churn(classes, 2, Design.independent(4)).churn.value == pytest.approx(4 / 6)
    assert rows.class_churn(classes, 2, Design.of("AABB")).churn.value == pytest.approx(1.0)
    # two retrains 2 apart: SD across them sqrt(2); each model's bags SD 1
    spread = rows.value_churn(np.array([[0.0], [2.0]]), np.ones((2, 1)), Design.independent(2))
    assert spread.churn.value == pytest.approx(math.sqrt(2)) and spread.spread == pytest.approx(
        math.sqrt(2)
    )
    assert spread.bag_spread == pytest.approx(1.0)


SPLITS = [0, 0, 0, 1, 1, 2, 3, 3, 3]


def across(values, keep, g):
    """Brute force: the mean over ordered pairs of distinct split seeds of the mean over their
    runs' pairs of `values(a, b)`."""
    seeds = sorted(set(g[keep]))
    means = []
    for x, y in itertools.permutations(seeds, 2):
        A = [m for m in keep if g[m] == x]
        B = [m for m in keep if g[m] == y]
        means.append(np.mean([values(a, b) for a in A for b in B]))
    return float(np.mean(means))


def brute_estimate(per_row, n, g):
    """A mean over rows of a pairwise mean, with its delete-a-split-seed jackknife, by brute
    force."""
    keep = list(range(len(g)))
    value = np.mean([across(per_row(i), keep, g) for i in range(n)])
    left = [
        np.mean([across(per_row(i), [m for m in keep if g[m] != u], g) for i in range(n)])
        for u in sorted(set(g))
    ]
    return intervals.from_left_out(float(value), np.array(left))


def test_closed_forms_equal_brute_force_over_pairs_with_their_jackknife():
    rng = np.random.default_rng(1)
    g = np.array(SPLITS)
    M, n, d, r = len(g), 6, 7, 3
    top = np.array([[rng.choice(d, r, replace=False) for _ in range(n)] for _ in range(M)])
    design = Design.of(SPLITS)
    found = rows.reasons(top, d, design)

    def kuncheva(i):
        return lambda a, b: (len(set(top[a, i]) & set(top[b, i])) * d - r * r) / (r * (d - r))

    want = brute_estimate(kuncheva, n, g)
    got = found.stability
    assert (got.value, got.ci_low, got.ci_high) == pytest.approx(
        (want.value, want.ci_low, want.ci_high)
    )
    pred = rng.integers(0, 3, (M, n))
    want = brute_estimate(lambda i: lambda a, b: float(pred[a, i] != pred[b, i]), n, g)
    got = rows.class_churn(pred, 3, design).churn
    assert (got.value, got.ci_low, got.ci_high) == pytest.approx(
        (want.value, want.ci_low, want.ci_high)
    )


def test_the_regression_ratio_and_its_jackknife_equal_brute_force():
    rng = np.random.default_rng(2)
    g = np.array(SPLITS)
    y, sd = rng.normal(size=(len(g), 5)), rng.uniform(0.5, 1.0, (len(g), 5))

    def ratio(keep):
        spread = np.mean(
            [across(lambda a, b, i=i: (y[a, i] - y[b, i]) ** 2 / 2, keep, g) for i in range(5)]
        )
        seeds = sorted(set(g[keep]))
        bags = np.mean(
            [np.mean(sd[[m for m in keep if g[m] == u]] ** 2, axis=0) for u in seeds], axis=0
        )
        return math.sqrt(spread) / math.sqrt(np.mean(bags))

    keep = list(range(len(g)))
    left = np.array([ratio([m for m in keep if g[m] != u]) for u in sorted(set(g))])
    # on the log scale, back-transformed: a ratio's interval stays above 0
    logged = intervals.from_left_out(math.log(ratio(keep)), np.log(left))
    want = intervals.Estimate(ratio(keep), math.exp(logged.ci_low), math.exp(logged.ci_high))
    got = rows.value_churn(y, sd, Design.of(SPLITS)).churn
    assert (got.value, got.ci_low, got.ci_high) == pytest.approx(
        (want.value, want.ci_low, want.ci_high)
    )


def simulate(rng, n_splits, models, truth_sets, d, r, follow_split=0.85, follow_truth=0.5):
    """Each split seed draws, for each row, the row's true set (with chance follow_truth) or a
    random one; each of its model seeds keeps the split's set (follow_split) or draws its own:
    runs on one split agree more than runs across splits, as retrains do."""
    n = len(truth_sets)

    def random_set():
        return rng.choice(d, r, replace=False)

    out, labels = [], []
    for s in range(n_splits):
        split = [truth_sets[i] if rng.random() < follow_truth else random_set() for i in range(n)]
        for _ in range(models):
            out.append(
                [split[i] if rng.random() < follow_split else random_set() for i in range(n)]
            )
            labels.append(s)
    return np.array(out), labels


@pytest.mark.parametrize("models", [2])
def test_the_interval_by_split_seed_covers_the_truth_where_runs_as_independent_would_not(models):
    """Known truth: the mean over rows of the expected Phi of two independent retrains (a fresh
    split seed each), from 3,000 split seeds of one model seed. Over 300 sweeps of 10 split
    seeds x 2 model seeds, the 95% interval by split seed covers it about 95% of the time; the
    same runs read as 20 independent ones give a value biased up (pairs within a split agree
    more) and cover it far less often."""
    rng = np.random.default_rng(3)
    d, r, n = 8, 2, 30
    truth_sets = [rng.choice(d, r, replace=False) for _ in range(n)]
    big, labels = simulate(rng, 3000, 1, truth_sets, d, r)
    truth = rows.reasons(big, d, Design.independent(len(labels))).stability.value
    covered, covered_naive = 0, 0
    for _ in range(300):
        top, labels = simulate(rng, 10, models, truth_sets, d, r)
        est = rows.reasons(top, d, Design.of(labels)).stability
        naive = rows.reasons(top, d, Design.independent(len(labels))).stability
        covered += est.ci_low <= truth <= est.ci_high
        covered_naive += naive.ci_low <= truth <= naive.ci_high
    assert 0.90 <= covered / 300 <= 0.99
    assert covered_naive / 300 < 0.8


def test_churn_and_the_spread_ratio_intervals_cover_their_truths():
    """Known truths: each split seed draws a row's chance of class 1 around its own level
    (expit(a_i + 1.5 z)), each model seed its prediction from that chance: the truth is the mean
    over rows of 2 pi (1 - pi), pi the chance over splits. A regression's prediction is a row's
    value plus a split effect (SD s_i) plus a model seed's (SD t_i, the bags' standard error):
    the truth is sqrt(mean(s^2 + t^2)) / sqrt(mean(t^2)). Over 300 sweeps of 10 split seeds x 2
    model seeds the intervals by split seed cover both about 95% of the time."""
    from scipy.special import expit

    rng = np.random.default_rng(5)
    n, G, m = 40, 10, 2
    a = rng.normal(0, 1.5, n)
    x, w = np.polynomial.hermite_e.hermegauss(80)
    pi = (expit(a[:, None] + 1.5 * x[None, :]) * (w / w.sum())).sum(axis=1)
    churn_truth = float(np.mean(2 * pi * (1 - pi)))
    s, t = rng.uniform(0.5, 2, n), rng.uniform(0.5, 1.5, n)
    ratio_truth = math.sqrt(np.mean(s**2 + t**2)) / math.sqrt(np.mean(t**2))
    design = Design.of(np.repeat(np.arange(G), m))
    churn_covered = ratio_covered = 0
    for _ in range(300):
        p = np.repeat(expit(a[None, :] + 1.5 * rng.normal(size=(G, n))), m, axis=0)
        est = rows.class_churn((rng.random(p.shape) < p).astype(int), 2, design).churn
        churn_covered += est.ci_low <= churn_truth <= est.ci_high
        y = np.repeat(s * rng.normal(size=(G, n)), m, axis=0) + t * rng.normal(size=(G * m, n))
        est = rows.value_churn(y, np.tile(t, (G * m, 1)), design).churn
        ratio_covered += est.ci_low <= ratio_truth <= est.ci_high
    assert 0.90 <= churn_covered / 300 <= 0.995
    assert 0.90 <= ratio_covered / 300 <= 0.995


def test_reason_agreement_counts_the_runs_at_hand_and_leans_high():
    """Every row's top reason is its own term in 80% of retrains: no row truly reaches 90%.
    Over 6 runs (a split seed each), rows clear 90% by chance (0.8^6 = 26% of them), which is
    why the words say it can overstate; with 200 runs hardly any do."""
    rng = np.random.default_rng(6)
    n, d = 400, 6

    def sweep(runs):
        first = np.where(rng.random((runs, n)) < 0.8, 0, rng.integers(1, d, (runs, n)))
        other = (first + 1) % d
        return np.stack([first, other], axis=2)

    few = rows.reasons(sweep(6), d, Design.independent(6)).agreement
    many = rows.reasons(sweep(200), d, Design.independent(200)).agreement
    assert 0.15 < few < 0.40 and many < 0.02
