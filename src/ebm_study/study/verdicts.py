"""What holds, in words: the reliably-top set (the summary's first line), the neighbouring
orderings, the near-twin groups as units, every near-best model, and one pair compared
(`ebm-study-report --compare`). Markdown; `plain` strips it for the console."""

from __future__ import annotations

import math

import pandas as pd

from ebm_study.measures import conclusions, intervals
from ebm_study.measures.pareto import MAX_NAMED
from ebm_study.rounding import at, decimals, interval, like
from ebm_study.study import findings, groups
from ebm_study.study.compute import Study
from ebm_study.study.tables import fmt


def plain(text: str) -> str:
    return text.replace("**", "").replace("`", "")


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_NAMED])
    return shown + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def _pct(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.0%}"


def _bounded_by(study: Study) -> str:
    if study.run_table is not None and "split_seed" not in study.run_table:
        return "bounded by run: the runs record no split seed"
    splits = int(study.headline.get("n_split_seeds", 0) or 0)
    if splits >= 2:
        return f"bounded by split seed, {splits} of them"
    return "bounded by run: every run is on one split seed, so over its model seeds alone"


def reliable_sentence(study: Study) -> str:
    """The reliably-top set, and when it is empty, why and what would fill it."""
    table = study.reliable
    k, level = study.settings.top_k, study.settings.reliable
    head = (
        f"**Reliably in the top {k}** (in at least {level:.0%} of retrains at "
        f"{conclusions.CONFIDENCE:.0%} confidence, {_bounded_by(study)}; "
        "`reliable_top_k.json`):"
    )
    if table is None or table.empty:
        return f"{head} none: no run has a top {k}."
    chosen = table[table["reliable"]]
    if len(chosen):
        names = ", ".join(
            f"**{r.term}** ({_pct(r.topk_frequency)}, at least {r.lower_bound:.2f})"
            for r in chosen.itertuples()
        )
        return f"{head} {names}."
    if table["lower_bound"].isna().all():
        return (
            f"{head} none can be stated: a bound needs at least {intervals.MIN_RUNS_FOR_INTERVAL} "
            "split seeds."
        )
    every = table[table["topk_frequency"] >= 1]
    need = intervals.units_for_bound(level, conclusions.CONFIDENCE)
    if len(every):
        names = ", ".join(f"**{t}**" for t in every["term"])
        return (
            f"{head} none yet. In every run's top {k}: {names}, each bounded at "
            f"{every['lower_bound'].max():.2f}; a term in every top {k} needs {need} split "
            f"seeds to reach {level:.2f}."
        )
    top = table.iloc[0]
    return (
        f"{head} none. The most frequent, **{top['term']}** ({_pct(top['topk_frequency'])} of "
        f"runs), is bounded at {top['lower_bound']:.2f}."
    )


def _pair(row) -> str:
    up, down = (row.a, row.b) if row.a_outranks_b >= 0.5 else (row.b, row.a)
    share = row.a_outranks_b if row.a_outranks_b >= 0.5 else 1 - row.a_outranks_b
    return f"**{up}** above **{down}** ({_pct(share)} of runs)"


def orderings_sentence(study: Study) -> str:
    """The neighbouring orderings around the top k, by verdict."""
    table = study.orderings
    if table is None or table.empty:
        return ""
    table = table[~table["asked"].astype(bool)]
    parts = []
    for verdict in (
        conclusions.SETTLED,
        conclusions.CONFLICTING,
        conclusions.LEANING,
        conclusions.COIN_TOSS,
        conclusions.TOO_FEW,
        conclusions.NO_INTERVAL,
    ):
        rows = table[table["verdict"] == verdict]
        if len(rows):
            label = verdict
            if verdict == conclusions.TOO_FEW:
                need = conclusions.MIN_SPLITS_TO_SETTLE
                label = f"too few split seeds to settle any (it needs {need})"
            parts.append(f"{label}: " + ", ".join(_pair(r) for r in rows.itertuples()))
    k = study.settings.top_k
    return (
        f"Neighbouring orderings of the first {k + 2} terms (`orderings.json`; settled: the "
        "share of runs and the importance difference both clear a tie, intervals by split "
        "seed): " + "; ".join(parts) + "."
    )


def compare_sentence(study: Study, a: str, b: str) -> str:
    """One pair, for `ebm-study-report --compare A B` (the row `orderings` logged for it)."""
    table = study.orderings
    row = table[(table["a"] == a) & (table["b"] == b) & table["asked"]].iloc[0]
    splits = int(study.headline.get("n_split_seeds", 0) or 0)
    share = interval(row["a_outranks_b"], row["a_outranks_b_ci_low"], row["a_outranks_b_ci_high"])
    gap = interval(
        row["importance_difference"],
        row["importance_difference_ci_low"],
        row["importance_difference_ci_high"],
    )
    up, down = (a, b) if row["a_outranks_b"] >= 0.5 else (b, a)
    verdict = {
        conclusions.SETTLED: f"settled: {up} is above {down}",
        conclusions.LEANING: f"leaning: {up} outranks {down} in most runs, but the importance "
        "difference's interval holds 0",
        conclusions.CONFLICTING: f"conflicting: {up} outranks {down} in most runs, but {down}'s "
        "importance is the larger on average (its wins are large ones)",
        conclusions.COIN_TOSS: "a coin toss: the runs cannot say which is above",
        conclusions.NO_INTERVAL: f"no interval with {splits} split seed(s): nothing is settled",
        conclusions.TOO_FEW: f"too few split seeds: with {splits}, no ordering can be settled "
        f"(it needs {conclusions.MIN_SPLITS_TO_SETTLE})",
    }[row["verdict"]]
    edges = [
        _edge(row, "a_outranks_b", 0.5, "one half"),
        _edge(row, "importance_difference", 0.0, "0"),
    ]
    return (
        f"{a} against {b} over {study.n_runs} runs on {splits} split seeds: {a} outranks {b} "
        f"in a share {share} of runs (95% CI by split seed); importance difference {gap}: "
        f"{verdict}{''.join(e for e in edges if e)}."
    )


def _edge(row, name: str, tie: float, words: str) -> str:
    """When an interval clears the tie by less than its shown digits say (0.85 (0.50–0.99)
    with its lower end at 0.501), the end that decides, to the first digit that tells it from
    the tie."""
    low, high = row[f"{name}_ci_low"], row[f"{name}_ci_high"]
    places = decimals(low, high)
    if places is None:
        return ""
    for end, side in ((low, "lower"), (high, "upper")):
        clears = end > tie if side == "lower" else end < tie
        if clears and float(at(end, places)) == tie:
            while at(end, places) == at(tie, places) and places < MAX_TIE_PLACES:
                places += 1
            return f" (the interval's {side} end, {at(end, places)}, clears {words})"
    return ""


MAX_TIE_PLACES = 9


def groups_sentence(study: Study) -> str:
    """Near-twin groups ranked as units beside single terms."""
    g = study.groups
    if g is None:
        return ""
    k = study.settings.top_k
    est, single = g.stability, g.terms_stability
    runs = len(g.matrix)
    over = (
        f"{runs} runs"
        if runs == g.n_runs_total
        else f"{runs} of the {g.n_runs_total} runs (those whose model could be read, at most "
        f"{groups.MAX_RUNS})"
    )
    table = g.table[g.table["unit"].map(lambda u: len(g.units[u]) > 1)]
    splits = study.design(list(g.matrix.index)).n_groups

    def bound(r) -> str:
        if r.reliable:
            return " (reliably)"
        if math.isnan(r.lower_bound):
            return f" (no bound with {splits} split seeds)"
        return f" (bounded at {r.lower_bound:.2f})"

    shown = ", ".join(
        f"{r.unit} in {_pct(r.topk_frequency)} of top-{k} sets{bound(r)}"
        for r in table.itertuples()
    )
    text = (
        f"Near-twin groups as units (a group's importance: the mean absolute sum of its "
        f"members' contributions on the reference rows; `group_topk_frequency.json`), over "
        f"{over}: top-{k} Phi = {interval(est.value, est.ci_low, est.ci_high)} "
        f"(`stability_groups`) against {like(single.value, est.ci_low, est.ci_high)} for the "
        "single terms on the same runs and rows (fewer, larger units: part of the gain comes "
        "with the grouping itself)."
    )
    return text + (f" {shown}." if shown else f" No group is in any run's top {k}.")


def near_best_paragraph(study: Study) -> str:
    """The near-best section of the summary (`near_best_sentences` under its heading)."""
    text = near_best_sentences(study)
    return f"\n### Every near-best model\n\n{text}\n" if text else ""


def near_best_sentences(study: Study) -> str:
    """Every near-best model: which settings, and what holds for all of them."""
    ranges = study.near_best
    if ranges is None or ranges.empty:
        return ""
    k = study.settings.top_k
    labels = study.labels
    names = _names(
        [f"**{labels.get(str(key)) or 'the one setting'}**" for key in study.near_best_settings]
    )
    how = near_best_how(study)
    runs = int(ranges["n_runs"].iloc[0])
    every = ranges[ranges["in_every_top_k"]]
    some = ranges[~ranges["in_every_top_k"] & ~ranges["in_no_top_k"]]
    none = int(ranges["in_no_top_k"].sum())
    lines = [
        f"The {runs} runs of {how}: {names} (`near_best.json`, `near_best.png`).",
        f"In every one's top {k}: "
        + (", ".join(f"**{t}**" for t in every["term"]) or "no term")
        + "."
        + (
            " In some: "
            + _names(
                [
                    f"{r.term} ({_pct(r.topk_frequency)})"
                    for r in some.sort_values("topk_frequency", ascending=False).itertuples()
                ]
            )
            + "."
            if len(some)
            else ""
        )
        + (f" In none of them: the other {none} term{'s' if none != 1 else ''}." if none else ""),
    ]
    if len(every):
        top = every.iloc[0]
        lines.append(
            f"Whichever of these models had been picked, {', '.join(every['term'])} would be in "
            f"its top {k}; {top['term']}'s importance ranges "
            f"{fmt(top['importance_p05'])}-{fmt(top['importance_p95'])} (5th-95th percentile)."
        )
    return " ".join(lines)


def near_best_how(study: Study) -> str:
    """Which settings the near-best runs are of, and why, in words (also the picture's title)."""
    n = len(study.near_best_settings)
    score = study.score
    return {
        findings.PAIRED: f"the {n} setting(s) whose {score} the paired test by split seed cannot "
        "tell from the best's",
        findings.WITHIN: f"the {n} setting(s) within {study.settings.near_best} of the best's "
        f"{score} (`study.near_best`)",
        findings.ONE_SETTING: "the sweep's one setting",
        findings.NO_INTERVAL: "the best setting alone: with fewer than 3 split seeds shared with "
        "it, the paired test has no interval for any other (`study.near_best` sets a distance "
        "instead)",
    }.get(study.near_best_how, f"the {n} near-best setting(s)")


def sentences(study: Study) -> list[str]:
    """The bullets of the summary on what holds (after the headline's details)."""
    return [s for s in (orderings_sentence(study), groups_sentence(study)) if s]


def n_reliable(study: Study) -> int:
    table = study.reliable
    return 0 if table is None else int(pd.Series(table["reliable"]).sum())
