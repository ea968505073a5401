"""The measures under the study's seed design, against a simulation whose truth is known: runs on
one split seed share a split effect, each run has its own model effect, and the estimand is the
stability of two independent retrains (a fresh split and a fresh model seed each)."""

import math

import numpy as np
import pytest

from ebm_study.measures import by_split, intervals, stability

D, K = 30, 5
MU = np.linspace(1, 0, D) ** 2  # the terms' true importance, a clear top and a long tail
SPLIT, MODEL = 0.25, 0.15  # calibrated: Phi about 0.39 across split seeds, 0.67 within one


def kuncheva_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a * b).sum(axis=1) * D - K * K) / (K * (D - K))


def truth(model: float = MODEL, n: int = 400_000, seed: int = 99) -> float:
    """Phi of independent retrains: at fixed k, the expected Kuncheva index of two runs with
    their own split and model effects (Nogueira et al. 2018, sec. 4)."""
    rng = np.random.default_rng(seed)
    a = stability.top_k(MU + rng.normal(0, SPLIT, (n, D)) + rng.normal(0, model, (n, D)), K)
    b = stability.top_k(MU + rng.normal(0, SPLIT, (n, D)) + rng.normal(0, model, (n, D)), K)
    return float(kuncheva_pairs(a, b).mean())


def study_scores(rng, splits: int, seeds: int, model: float = MODEL, split_effect=None):
    """One simulated study: `splits` split seeds x `seeds` model seeds, runs x terms."""
    s = rng.normal(0, SPLIT, (splits, 1, D)) if split_effect is None else split_effect
    scores = MU + s + rng.normal(0, model, (splits, seeds, D))
    return scores.reshape(splits * seeds, D), np.repeat(np.arange(splits), seeds)


def covers(est) -> tuple[float, bool]:
    return est.value, est.ci_low <= TRUTH <= est.ci_high


TRUTH = truth()
REPLICATES = 1000


@pytest.mark.parametrize(("splits", "seeds"), [(4, 2), (10, 2), (20, 1)])
def test_phi_and_its_interval_are_honest_under_the_seed_design(splits, seeds):
    rng = np.random.default_rng(splits * 10 + seeds)
    values, hits = [], []
    for _ in range(REPLICATES):
        scores, groups = study_scores(rng, splits, seeds)
        value, hit = covers(
            by_split.nogueira(stability.top_k(scores, K), by_split.Design.of(groups))
        )
        values.append(value)
        hits.append(hit)
    bias, coverage = np.mean(values) - TRUTH, np.mean(hits)
    assert abs(bias) < 0.01, bias
    assert 0.93 <= coverage <= 0.98, coverage


def test_the_old_pooled_estimate_fails_the_same_check():
    """The study before (at 10 runs or more): every pair of runs, Nogueira's asymptotic interval
    by run, which the test above would fail."""
    rng = np.random.default_rng(42)
    values, hits = [], []
    for _ in range(REPLICATES):
        scores, _ = study_scores(rng, 4, 4)
        Z = stability.top_k(scores, K)
        value, hit = covers(stability.nogueira(Z))  # 16 runs: its asymptotic interval
        values.append(value)
        hits.append(hit)
    assert np.mean(values) - TRUTH > 0.03  # pairs on one split agree more: inflated
    assert np.mean(hits) < 0.8  # and the interval is far too narrow


def test_the_paired_difference_of_two_settings_is_honest():
    """Two settings on the same split seeds, one with twice the model noise: the difference of
    their Phi, each split seed left out of both, covers the true difference."""
    noisy = 2 * MODEL
    true_difference = TRUTH - truth(noisy)
    rng = np.random.default_rng(7)
    diffs, hits = [], []
    for _ in range(REPLICATES):
        shared = rng.normal(0, SPLIT, (10, 1, D))
        a, groups = study_scores(rng, 10, 2, split_effect=shared)
        b, _ = study_scores(rng, 10, 2, model=noisy, split_effect=shared)
        design = by_split.Design.of(groups)
        est = by_split.difference(
            by_split.nogueira_parts(stability.top_k(a, K), design),
            by_split.nogueira_parts(stability.top_k(b, K), design),
        )
        diffs.append(est.value)
        hits.append(est.ci_low <= true_difference <= est.ci_high)
    assert abs(np.mean(diffs) - true_difference) < 0.01
    assert 0.93 <= np.mean(hits) <= 0.98, np.mean(hits)


# ---------------------------------------------------------------------------------------------
# Hand-worked cases


def test_one_run_a_split_seed_gives_the_pooled_values():
    rng = np.random.default_rng(0)
    scores = rng.random((12, 9)) + np.linspace(1, 0, 9)
    Z = stability.top_k(scores, 3)
    C = np.eye(9)
    C[0, 1] = C[1, 0] = C[3, 4] = C[4, 3] = 1
    one = by_split.Design.independent(12)
    pairs = [
        (by_split.nogueira(Z, one), stability.nogueira(Z)),
        (by_split.jaccard(Z, one), stability.jaccard(Z)),
        (by_split.kuncheva(Z, one), stability.kuncheva(Z)),
        (by_split.rbo(scores, one, 0.8), stability.rbo(scores, 0.8)),
        (by_split.nogueira_corr(Z, C, one), stability.nogueira_corr(Z, C)),
    ]
    for ours, pooled in pairs:
        assert ours.value == pytest.approx(pooled.value, abs=1e-12)
    # The interval: the jackknife by run, here in closed form, there by refitting.
    brute = intervals.jackknife(stability.nogueira(Z), Z, stability.nogueira)
    assert (pairs[0][0].ci_low, pairs[0][0].ci_high) == pytest.approx((brute.ci_low, brute.ci_high))
    brute = intervals.jackknife(stability.rbo(scores), scores, stability.rbo)
    assert (pairs[3][0].ci_low, pairs[3][0].ci_high) == pytest.approx((brute.ci_low, brute.ci_high))


def test_model_seeds_that_agree_on_each_split_change_nothing():
    rng = np.random.default_rng(1)
    scores = rng.random((6, 8)) + np.linspace(1, 0, 8)
    Z = stability.top_k(scores, 3)
    one, twice = by_split.Design.independent(6), by_split.Design.of(np.repeat(np.arange(6), 2))
    for measure in (by_split.nogueira, by_split.jaccard, by_split.kuncheva):
        assert measure(np.repeat(Z, 2, axis=0), twice) == measure(Z, one)
    assert by_split.rbo(np.repeat(scores, 2, axis=0), twice) == by_split.rbo(scores, one)


def test_a_pair_counts_once_whatever_the_model_seeds_on_its_splits():
    """Split 0 holds three runs, split 1 one: the mean over the pair of splits is the mean of
    the three cross pairs, weighted 1/3 each, not a mean over all six pairs of runs."""
    Z = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 0, 0], [0, 1, 1, 0]])
    design = by_split.Design.of([0, 0, 0, 1])
    cross = [stability.jaccard_index(Z[i], Z[3]) for i in range(3)]
    assert by_split.jaccard(Z, design).value == pytest.approx(np.mean(cross))
    assert math.isnan(by_split.jaccard(Z, design).ci_low)  # 2 split seeds: no interval
    assert by_split.jaccard(Z, design).note == "no interval with 2 split seeds"


def test_one_split_seed_measures_the_model_seeds_on_it():
    rng = np.random.default_rng(2)
    Z = stability.top_k(rng.random((5, 8)), 3)
    est = by_split.nogueira(Z, by_split.Design.of([7] * 5))
    brute = intervals.jackknife(stability.nogueira(Z), Z, stability.nogueira)
    assert (est.value, est.ci_low, est.ci_high) == pytest.approx(
        (brute.value, brute.ci_low, brute.ci_high)
    )


def test_a_mean_score_weights_split_seeds_alike_and_resamples_them():
    scores = np.array([0.90, 0.92, 0.94, 0.80, 0.85])
    design = by_split.Design.of([0, 0, 0, 1, 2])
    est = by_split.mean(scores, design)
    by_split_means = np.array([0.92, 0.80, 0.85])
    assert est.value == pytest.approx(by_split_means.mean())
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * by_split_means.std(ddof=1) / math.sqrt(3)
    assert (est.ci_low, est.ci_high) == pytest.approx((est.value - half, est.value + half))


# ---------------------------------------------------------------------------------------------
# Against brute force by the definitions, on unbalanced designs in shuffled order


def _cross(items, groups, kernel):
    """Mean over ordered pairs of split seeds g != h of the mean kernel over their runs."""
    seeds = sorted(set(groups.tolist()))
    return np.mean([
        np.mean([kernel(items[i], items[j]) for i in np.flatnonzero(groups == g)
                 for j in np.flatnonzero(groups == h)])
        for g in seeds for h in seeds if g != h
    ])  # fmt: skip


def _by_seed(values, groups):
    return np.mean([values[groups == g].mean() for g in sorted(set(groups.tolist()))])


def _phi(Z, groups):
    d, kbar = Z.shape[1], _by_seed(Z.sum(axis=1), groups)
    hamming = _cross(Z, groups, lambda a, b: np.sum((a - b) ** 2))
    return 1 - hamming / (2 * d) / (kbar / d * (1 - kbar / d))


def _phi_c(Z, C, groups):
    d, k = Z.shape[1], Z.sum(axis=1)
    k1, k2 = _by_seed(k, groups), _by_seed(k * (k - 1), groups)
    numerator = _cross(Z, groups, lambda a, b: (a - b) @ C @ (a - b) / 2)
    off = k2 / (d * (d - 1)) - (k1 / d) ** 2
    return 1 - numerator / (k1 / d * (1 - k1 / d) * np.trace(C) + off * (C.sum() - np.trace(C)))


def _jackknifed(measure, X, groups, *extra):
    left = [measure(X[groups != g], *extra, groups[groups != g]) for g in sorted(set(groups))]
    return intervals.from_left_out(measure(X, *extra, groups), np.array(left))


def test_every_measure_and_interval_is_its_definition_on_unbalanced_shuffled_designs():
    rng = np.random.default_rng(5)
    C = np.eye(7)
    C[0, 1] = C[1, 0] = C[2, 3] = C[3, 2] = 1
    for trial in range(25):
        sizes = rng.integers(1, 5, size=int(rng.integers(3, 6)))  # 3 to 5 split seeds
        groups = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
        scores = rng.random((3, 7))[rng.integers(0, 3, len(groups))] + rng.normal(
            0, 0.3, (len(groups), 7)
        )  # few distinct sets, many repeats
        Z = stability.top_k(scores, 3).astype(float)
        sizes_vary = (rng.random(Z.shape) < 0.4).astype(float)  # sets of differing sizes
        sizes_vary[:, 0] = 1
        design = by_split.Design.of([f"s{g}" for g in groups])
        kernels = {
            "jaccard": lambda a, b: stability.jaccard_index(a, b),
            "kuncheva": lambda a, b: stability.kuncheva_index(a, b),
        }
        for name, ours in (("jaccard", by_split.jaccard), ("kuncheva", by_split.kuncheva)):
            measure = lambda X, g, k=kernels[name]: _cross(X, g, k)  # noqa: E731
            expected, got = _jackknifed(measure, Z, groups), ours(Z, design)
            assert (got.value, got.ci_low, got.ci_high) == pytest.approx(
                (expected.value, expected.ci_low, expected.ci_high), abs=1e-10
            ), (trial, name)
        for X in (Z, sizes_vary):
            expected, got = _jackknifed(_phi, X, groups), by_split.nogueira(X, design)
            assert (got.value, got.ci_low, got.ci_high) == pytest.approx(
                (expected.value, expected.ci_low, expected.ci_high), abs=1e-10
            ), trial
            expected = _jackknifed(_phi_c, X, groups, C)
            got = by_split.nogueira_corr(X, C, design)
            assert (got.value, got.ci_low, got.ci_high) == pytest.approx(
                (expected.value, expected.ci_low, expected.ci_high), abs=1e-10
            ), trial
        orders = np.argsort(-scores, axis=1, kind="stable")
        rbo = lambda X, g: _cross(X, g, stability.rbo_index)  # noqa: E731
        expected, got = _jackknifed(rbo, orders, groups), by_split.rbo(scores, design, 0.8)
        assert (got.value, got.ci_low, got.ci_high) == pytest.approx(
            (expected.value, expected.ci_low, expected.ci_high), abs=1e-10
        ), trial
