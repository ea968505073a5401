"""What holds: orderings, the reliably-top set and the near-best models, against simulations with
a known truth and hand-worked cases (measures/conclusions.py, intervals.share_lower_bound)."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ebm_study.measures import by_split, conclusions, intervals, pareto

SPLITS, MODELS = 10, 4


def split_design(splits: int = SPLITS, models: int = MODELS) -> by_split.Design:
    return by_split.Design.of(np.repeat(np.arange(splits), models))


def simulated_pair(rng, mu: float, split_sd: float, model_sd: float, splits: int = SPLITS):
    """Two terms' importances over splits x MODELS runs: a - b = mu + a split seed's effect,
    shared by its runs, + a run's own."""
    shared = np.repeat(rng.normal(0, split_sd, splits), MODELS)
    b = 1 + rng.normal(0, 0.05, splits * MODELS)
    a = b + mu + shared + rng.normal(0, model_sd, splits * MODELS)
    return pd.DataFrame({"a": a, "b": b})


@pytest.mark.parametrize(
    ("splits", "share_rate"),
    [
        (20, (0.93, 0.99)),  # the share's interval at its nominal rate
        # With 10 split seeds the true share (0.74) is above what 10 split seeds that all
        # agree could bound it at (0.025 ** 0.1 = 0.69): the interval is conservative there.
        (10, (0.95, 1.0)),
    ],
)
def test_a_above_b_intervals_cover_the_known_ordering_at_the_nominal_rate(splits, share_rate):
    """Split-shared noise: the intervals by split seed cover both truths about 95% of the time;
    intervals that took every run as independent would not (the test can fail)."""
    rng = np.random.default_rng(7)
    mu, split_sd, model_sd = 0.2, 0.3, 0.1
    true_share = stats.norm.cdf(mu / math.hypot(split_sd, model_sd))
    design = split_design(splits)
    naive = by_split.Design.independent(splits * MODELS)
    hits = {"share": 0, "difference": 0, "naive share": 0, "naive difference": 0}
    reps = 400
    for _ in range(reps):
        scores = simulated_pair(rng, mu, split_sd, model_sd, splits)
        o = conclusions.compare(scores, design, "a", "b")
        n = conclusions.compare(scores, naive, "a", "b")
        hits["share"] += o.share.ci_low <= true_share <= o.share.ci_high
        hits["difference"] += o.difference.ci_low <= mu <= o.difference.ci_high
        hits["naive share"] += n.share.ci_low <= true_share <= n.share.ci_high
        hits["naive difference"] += n.difference.ci_low <= mu <= n.difference.ci_high
    rate = {k: v / reps for k, v in hits.items()}
    assert share_rate[0] <= rate["share"] <= share_rate[1], rate
    assert 0.92 <= rate["difference"] <= 0.98, rate
    assert rate["naive share"] < 0.85 and rate["naive difference"] < 0.85, rate


def test_a_pair_won_in_every_run_is_never_less_settled_than_one_with_a_loss():
    """A pair won in every run is never bounded lower than one with any losses on a split seed
    (not a full monotonicity: spreading the same wins differently moves the interval)."""
    for splits in (3, 5, 10, 20):
        everywhere = intervals.share_interval(np.ones(splits), MODELS * splits)
        for lost in range(1, MODELS + 1):
            shares = np.ones(splits)
            shares[0] = 1 - lost / MODELS
            once = intervals.share_interval(shares, MODELS * splits)
            assert once.ci_low <= everywhere.ci_low + 1e-12, (splits, lost)


def test_two_terms_that_always_tie_are_never_settled():
    rng = np.random.default_rng(1)
    design = split_design()
    for _ in range(50):
        a = rng.uniform(0, 1, SPLITS * MODELS)
        o = conclusions.compare(pd.DataFrame({"a": a, "b": a.copy()}), design, "a", "b")
        assert o.share.value == 0.5 and o.difference.value == 0
        assert o.verdict == conclusions.COIN_TOSS
    # Exchangeable terms (the same distribution): settled only at about the test's 5% rate.
    settled = sum(
        conclusions.compare(
            pd.DataFrame(rng.normal(1, 0.2, (SPLITS * MODELS, 2)), columns=["a", "b"]),
            design,
            "a",
            "b",
        ).verdict
        == conclusions.SETTLED
        for _ in range(300)
    )
    assert settled / 300 <= 0.08


def test_a_clear_ordering_is_settled_and_a_crossing_one_is_not():
    design = split_design()
    rng = np.random.default_rng(2)
    clear = conclusions.compare(simulated_pair(rng, 1.0, 0.05, 0.05), design, "a", "b")
    assert clear.verdict == conclusions.SETTLED and clear.above == ("a", "b")
    assert clear.share.value == 1 and clear.share.ci_high <= 1
    flipped = conclusions.compare(simulated_pair(rng, -1.0, 0.05, 0.05), design, "a", "b")
    assert flipped.verdict == conclusions.SETTLED and flipped.above == ("b", "a")
    # Three split seeds, B below A in every run: three heads in a row are no proof; below 6
    # split seeds no share can clear 0.5, and the verdict says so rather than "coin toss".
    three = conclusions.compare(
        simulated_pair(rng, 1.0, 0.05, 0.05).iloc[: 3 * MODELS], split_design(3), "a", "b"
    )
    assert three.share.value == 1 and three.share.ci_low == pytest.approx(0.025 ** (1 / 3))
    assert three.verdict == conclusions.TOO_FEW and conclusions.MIN_SPLITS_TO_SETTLE == 6
    six = conclusions.compare(
        simulated_pair(rng, 1.0, 0.05, 0.05).iloc[: 6 * MODELS], split_design(6), "a", "b"
    )
    assert six.verdict == conclusions.SETTLED
    two = conclusions.compare(
        simulated_pair(rng, 1.0, 0.05, 0.05).iloc[: 2 * MODELS], split_design(2), "a", "b"
    )
    assert two.verdict == conclusions.NO_INTERVAL  # 2 split seeds: no interval, no verdict


def test_a_pair_whose_share_and_difference_disagree_is_conflicting_not_leaning():
    """a above b in most runs, but b far above in the others: b's importance is the larger on
    average, both intervals clear a tie on opposite sides."""
    rng = np.random.default_rng(8)
    rows = []
    for _ in range(SPLITS):
        for m in range(MODELS):
            b = 1 + rng.normal(0, 0.01)
            rows.append({"a": b + 0.1 if m < 3 else b - 1.0, "b": b})
    o = conclusions.compare(pd.DataFrame(rows), split_design(), "a", "b")
    assert o.share.ci_low > 0.5 and o.difference.ci_high < 0
    assert o.verdict == conclusions.CONFLICTING


def test_split_seeds_that_agree_inside_0_and_1_do_not_make_the_interval_jump():
    """Every split seed at 0.75, or one at 1.0: nearly the same interval (no fallback to G
    away from 0 and 1, where the spread, not its absence, is what is unknown)."""
    same = intervals.share_interval(np.full(10, 0.75), 40)
    one = intervals.share_interval(np.r_[1.0, np.full(9, 0.75)], 40)
    assert abs(same.ci_low - one.ci_low) < 0.05 and same.ci_low > 0.5


def test_the_neighbours_are_the_pairs_around_the_top_k():
    order = list("abcdefgh")
    assert conclusions.neighbours(order, 3) == [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")]
    scores = pd.DataFrame(np.tile(np.arange(8, 0, -1.0), (12, 1)), columns=order)
    table = conclusions.orderings(scores, split_design(3, 4), order, 3, [("h", "a")])
    assert list(table["positions"]) == ["1-2", "2-3", "3-4", "4-5", ""]
    assert list(table["asked"]) == [False] * 4 + [True]
    assert table.iloc[-1]["a_outranks_b"] == 0 and table.iloc[-1]["importance_difference"] == -7


def test_the_share_bound_covers_the_truth_where_a_bound_by_run_would_not():
    """Each split seed's runs share their data (a split seed's chance drawn from a Beta with
    mean 0.9, its runs Bernoulli of it): the bound by split seed stays below the truth at
    least 95% of the time; Clopper-Pearson over runs as if independent does not."""
    rng = np.random.default_rng(3)
    truth, reps = 0.9, 1000
    ours = naive = 0
    for _ in range(reps):
        p = rng.beta(0.9, 0.1, 20)
        hits = rng.binomial(1, np.repeat(p, MODELS)).astype(float)
        shares = by_split.unit_means(hits, np.repeat(np.arange(20), MODELS))
        ours += intervals.share_lower_bound(shares) <= truth
        x = hits.sum()
        naive += (stats.beta.ppf(0.05, x, len(hits) - x + 1) if x else 0.0) <= truth
    assert ours / reps >= 0.95 and naive / reps < 0.92, (ours / reps, naive / reps)


def test_the_share_bound_in_hand_worked_cases():
    assert intervals.share_lower_bound(np.ones(10)) == pytest.approx(0.05 ** (1 / 10))
    assert (
        intervals.share_lower_bound(np.ones(29)) >= 0.9 > intervals.share_lower_bound(np.ones(28))
    )
    assert intervals.units_for_bound(0.9) == 29
    assert intervals.share_lower_bound(np.zeros(10)) == 0
    assert math.isnan(intervals.share_lower_bound(np.ones(2)))
    # Never worth more than one draw a split seed, however many runs it has.
    assert intervals.share_lower_bound(np.full(10, 0.5)) == pytest.approx(
        stats.beta.ppf(0.05, 5, 6)
    )


def fixed_top_scores(splits: int, models: int, d: int, k: int, rng) -> pd.DataFrame:
    """The top k never changes (the first k terms far above the rest), the rest reshuffle."""
    M = splits * models
    values = rng.uniform(0, 1, (M, d))
    values[:, :k] += 10 + np.arange(k, 0, -1)[None, :]
    return pd.DataFrame(values, columns=[f"t{i}" for i in range(d)])


def test_a_top_k_that_never_changes_is_reliably_on_top_with_enough_split_seeds():
    rng = np.random.default_rng(4)
    k = 5
    scores = fixed_top_scores(30, 2, 20, k, rng)
    table = conclusions.reliable(scores, split_design(30, 2), k, 0.9)
    assert set(table.loc[table["reliable"], "term"]) == {f"t{i}" for i in range(k)}
    # Honestly small with few split seeds: the same runs on 5 split seeds state nothing.
    few = conclusions.reliable(scores.iloc[:10], split_design(5, 2), k, 0.9)
    assert not few["reliable"].any()
    assert (few.loc[few["topk_frequency"] == 1, "lower_bound"] < 0.6).all()


def test_a_random_top_k_has_no_reliably_top_term():
    rng = np.random.default_rng(5)
    scores = pd.DataFrame(rng.uniform(0, 1, (60, 20)), columns=[f"t{i}" for i in range(20)])
    table = conclusions.reliable(scores, split_design(30, 2), 5, 0.9)
    assert len(table) == 20 and not table["reliable"].any()


def constructed_sweep(rng, splits: int = 8):
    """Four settings on the same split seeds: the best, one a hair below it and noisy (the
    paired test cannot separate it), one clearly below on every split, one far below."""
    offsets = {"best": 0.0, "hair": -0.002, "below": -0.03, "far": -0.08}
    split_effect = rng.normal(0, 0.02, splits)
    rows = []
    for key, offset in offsets.items():
        noise = 0.01 if key == "hair" else 0.002
        for s in range(splits):
            for m in range(2):
                rows.append(
                    {
                        "config_key": key,
                        "split_seed": s,
                        "model_seed": m,
                        "f1": 0.95 + offset + split_effect[s] + rng.normal(0, noise),
                    }
                )
    runs = pd.DataFrame(rows)
    runs.index = [f"r{i}" for i in range(len(runs))]
    by_config = pd.DataFrame(
        {
            "config_key": list(offsets),
            "setting": list(offsets),
            "n_runs": 2 * splits,
            "nogueira": [0.5, 0.6, 0.7, 0.8],
        }
    )
    return runs, by_config


def paired_cannot_separate(runs: pd.DataFrame, key: str, best: str) -> bool:
    """By hand: the t interval over split seeds of the per-split mean difference holds 0."""
    means = runs.groupby(["config_key", "split_seed"])["f1"].mean()
    gap = (means[key] - means[best]).to_numpy()
    if key == best:
        return True
    half = stats.t.ppf(0.975, len(gap) - 1) * gap.std(ddof=1) / math.sqrt(len(gap))
    return gap.mean() + half >= 0


def test_the_near_best_settings_are_exactly_those_the_paired_test_cannot_separate():
    rng = np.random.default_rng(6)
    runs, by_config = constructed_sweep(rng)
    front = pareto.table(by_config, runs, "f1", "nogueira", False)
    keys = conclusions.near_best_keys(front, by_config, lower_is_better=False)
    expected = {k for k in by_config["config_key"] if paired_cannot_separate(runs, k, "best")}
    assert set(keys) == expected == {"best", "hair"}
    # Within a stated distance instead: by the means alone.
    within = conclusions.near_best_keys(front, by_config, False, within=0.05)
    assert set(within) == {"best", "hair", "below"}
    assert conclusions.near_best_keys(None, by_config.iloc[:1], False) == ["best"]


def test_importance_ranges_over_the_near_best_runs():
    scores = pd.DataFrame(
        {"x": [3.0, 4.0, 5.0, 6.0], "y": [2.0, 1.0, 2.5, 0.5], "z": [0.1, 0.2, 0.3, 0.4]},
        index=["r0", "r1", "r2", "r3"],
    )
    table = conclusions.importance_ranges(scores, 1, "r2").set_index("term")
    assert list(table.index) == ["x", "y", "z"]
    x = table.loc["x"]
    assert x["importance_min"] == 3 and x["importance_max"] == 6 and x["importance_median"] == 4.5
    assert x["importance_p05"] == pytest.approx(np.percentile([3, 4, 5, 6], 5))
    assert x["best_run_importance"] == 5 and x["in_every_top_k"] and not x["in_no_top_k"]
    assert table.loc["z", "in_no_top_k"] and table.loc["y", "topk_frequency"] == 0
