"""The study in words: the headline sentence, the parent run's Markdown summary, the warnings,
and what the console prints at a sweep's end and from `ebm-study-report`."""

from __future__ import annotations

import math

import pandas as pd

from ebm_study.measures import intervals, pareto
from ebm_study.rounding import interval, like
from ebm_study.study import row_words, verdicts
from ebm_study.study.compute import Study
from ebm_study.study.tables import fmt, settings_table
from ebm_study.tracking import store


def headline_sentence(study: Study) -> str:
    """The headline with its estimand: retrains, pairs across split seeds, intervals by them."""
    h = study.headline
    k = study.settings.top_k
    if math.isnan(h["nogueira"]):
        why = "; ".join(study.notes) or "undefined"
        return f"Top-{k} stability over {study.n_runs} runs is undefined: {why}."
    splits = int(h.get("n_split_seeds", study.n_runs) or 0)
    across = splits >= 2
    over = (
        f"{study.n_runs} runs on {splits} split seeds"
        if splits != study.n_runs
        else f"{study.n_runs} runs"
    )
    what = (
        "how alike the top k of two independent retrains are (a fresh split and model seed; "
        "pairs of runs on different split seeds, the interval by split seed)"
        if across
        else "how alike the top k of two model seeds on this one split are (the data held fixed)"
    )
    return (
        f"Top-{k} stability over {over}: Nogueira's Phi (95% CI) = "
        f"{interval(h['nogueira'], h['nogueira_ci_low'], h['nogueira_ci_high'])}: {what}; "
        f"1 = the same {k} terms every time, 0 = no better than chance."
    )


def headline_phi(study: Study) -> str:
    """The headline Phi to its interval's digits, where a sentence compares another with it."""
    h = study.headline
    return like(h["nogueira"], h.get("nogueira_ci_low"), h.get("nogueira_ci_high"))


# An interval wider than this cannot rank settings whose stability differs by the usual 0.1.
TOO_WIDE = 0.3


def width_sentence(study: Study) -> str:
    """When the headline's interval is too wide to say much: how wide, and how many split
    seeds would halve it."""
    h = study.headline
    low, high = h.get("nogueira_ci_low", math.nan), h.get("nogueira_ci_high", math.nan)
    splits = int(h.get("n_split_seeds", 0) or 0)
    if math.isnan(low) or high - low <= TOO_WIDE or splits < 2:  # one split: by run
        return ""
    return (
        f"With {splits} split seeds the interval is {high - low:.2f} wide: too wide to rank "
        f"settings by stability. About {intervals.split_seeds_to_narrow(splits)} split seeds "
        "would halve it (`split_seed='range(N)'`)."
    )


def recommendation_sentence(study: Study) -> str:
    """The recommended setting and those it cannot be told apart from (measures/pareto.py):
    the verdict's third line; "" for a sweep of one setting."""
    if study.pareto is None:
        return ""
    chosen = study.settings
    return pareto.recommendation(study.pareto, chosen.objective, chosen.min_stability)


def verdict_lines(study: Study) -> list[str]:
    """The verdict, first in the description, the page and the console: what is reliably on
    top, the headline with its interval, the recommended setting."""
    return [
        s
        for s in (
            verdicts.reliable_sentence(study),
            headline_sentence(study),
            recommendation_sentence(study),
        )
        if s
    ]


def detail_lines(study: Study) -> list[str]:
    """The study's details, one sentence a line (the description's bullets, the page's list)."""
    k = study.settings.top_k
    h = study.headline
    freq = study.topk_frequency
    table = study.reliable
    chosen = set() if table is None else set(table.loc[table["reliable"], "term"])
    swapping = freq[(freq["topk_frequency"] > 0) & ~freq["term"].isin(chosen)]
    listed = (
        ", ".join(f"**{r.term}** ({r.topk_frequency:.0%})" for r in swapping.itertuples()) or "none"
    )
    lines = [
        f"In the top {k} of some or all runs, not reliably: {listed}.",
        *verdicts.sentences(study),
        f"Mean pairwise Jaccard {fmt(h['jaccard'])} (random top-{k} sets: "
        f"{fmt(h['jaccard_chance'])}); rank-biased overlap of the full rankings "
        f"(p = {study.settings.rbo_p}) {fmt(h['rbo'])}; Kendall's W {fmt(h['kendall_w'])}.",
        f"Median gap between the {k}th and {k + 1}th importance: {fmt(h['topk_gap_median'])}"
        " (near 0: the boundary is nearly a tie).",
    ]
    within = h.get("within_run", math.nan)
    if not math.isnan(within) and not math.isnan(h["nogueira"]):
        verdict = (
            "each model's own bags agree more than retrains do: more seeds (or a consensus "
            "model) say more than more bags"
            if within > h["nogueira"]
            else "each model's own bags already disagree as much: more seeds cannot make one "
            "run's top k trustworthy; more bags or a consensus model can"
        )
        lines.append(
            f"Within one run: Phi over each run's outer bags averages {fmt(within)} "
            f"(`stability_within_run`) against {headline_phi(study)} across runs; {verdict}."
        )
    within_split = h.get("nogueira_within_split", math.nan)
    if not math.isnan(within_split):
        lines.append(
            f"Within one split seed (model randomness alone, the data held fixed) Phi is "
            f"{fmt(within_split)} (`stability_nogueira_within_split`); across split seeds "
            f"(both: the headline) {headline_phi(study)}. The gap is what the data's split adds."
        )
    if study.score == "r2":
        lines.append(
            "A regression: each setting's `mean_r2` is the mean R² on the runs' test splits "
            "(each run also logs `rmse` and `mae`, in the target's units)."
        )
    if study.positive_classes:
        about = ", ".join(f"`{c}`" for c in study.positive_classes)
        lines.append(
            f"F1, precision and recall are about class {about} (`data.positive_class`; "
            "by default the larger label)."
        )
    if study.n_failed:
        lines.append(f"{study.n_failed} run(s) failed and are left out of the study.")
    if study.orphaned:
        names = ", ".join(study.orphaned[:5]) + (" ..." if len(study.orphaned) > 5 else "")
        lines.append(
            f"{len(study.orphaned)} of them were left RUNNING by a process that was gone "
            f"(killed, out of memory, a lost machine) and are closed KILLED (tag "
            f"`ebm_study.orphaned`): {names}. Run the sweep's command again to fit them."
        )
    if study.at_max_rounds:
        names = ", ".join(study.run_names.get(r, r) for r in study.at_max_rounds[:5])
        more = f" and {len(study.at_max_rounds) - 5} more" if len(study.at_max_rounds) > 5 else ""
        lines.append(
            f"{len(study.at_max_rounds)} run(s) had outer bags that never early-stopped and "
            f"were stopped by the round cap (`max_rounds`; metric `bags_at_max_rounds`): "
            f"{names}{more}."
        )
    warned = warning_sentence(study)
    if warned:
        lines.append(warned)
    lines += [f"Note: {note}." for note in study.notes]
    return lines


def summary_markdown(study: Study, max_settings: int | None = None) -> str:
    """A short report for the sweep's parent run. Its first lines, all MLflow shows before
    "Show more", are the verdict (`verdict_lines`). `max_settings`: the per-setting table's
    rows (the most stable first; None: all)."""
    k = study.settings.top_k
    lines = [line for s in verdict_lines(study) for line in (s, "")]
    lines += [f"### Top-{k} stability", ""]
    wide = width_sentence(study)
    if wide:
        lines += [wide, ""]
    twins = twin_sentences(study)
    if twins:
        lines += [*twins, ""]
    lines += [f"- {s}" for s in detail_lines(study)]
    if len(study.by_config) > 1:
        table = settings_table(study)
        lines += ["", "### Per setting", ""]
        settings = len(table) - 1  # the last row is the whole sweep
        if max_settings is not None and max_settings < settings:
            table = pd.concat([table.iloc[:max_settings], table.iloc[[-1]]])
            lines += [
                f"The {max_settings} most stable of {settings} settings (all of them: "
                "`stability_by_config.json`).",
                "",
            ]
        lines.append(markdown_table(table))
    return "\n".join(lines) + "\n"


def markdown_table(table: pd.DataFrame) -> str:
    """A table MLflow's description renders readably. Its view gives table cells no padding
    (only the editor's preview has any), so "0.46 (0.29–0.62)0.75" would run together: every
    cell but a row's last ends in an em space, as an entity (showdown trims the character
    itself). A `|` in a value is escaped, so it stays one cell."""

    def cell(value: object, last: bool) -> str:
        text = str(value).replace("|", "\\|")
        return text if last else f"{text}{PAD}"

    n = len(table.columns)
    cells = pd.DataFrame(
        [[cell(v, j == n - 1) for j, v in enumerate(row)] for row in table.itertuples(index=False)]
    )
    cells.columns = [cell(c, j == n - 1) for j, c in enumerate(table.columns)]
    return cells.to_markdown(index=False)


PAD = "&emsp;"


def warning_sentence(study: Study) -> str:
    """The runs' warnings about their scores (a class never predicted, F1 far below what a
    threshold gives) in one sentence: how many runs, and the first in words."""
    warned = [r for r in study.ranks.index if r in study.run_warnings]
    if not warned:
        return ""
    first = study.run_warnings[warned[0]].splitlines()[0]
    name = study.run_names.get(warned[0], warned[0])
    return (
        f"{len(warned)} of {study.n_runs} runs warned (tag `ebm_study.warning`); the first, "
        f"{name}: {first}."
    )


# A near-twin group is worth a sentence when some run's top k draws one of it this often.
TWIN_SHARE = 0.9


def twin_sentences(study: Study) -> list[str]:
    """The near-twin groups in words, leading with those the top k always draws one from."""
    twins = study.twins
    if twins is None or twins.empty:
        return []
    k = study.settings.top_k
    freq = study.topk_frequency.set_index("term")["topk_frequency"]
    lines = []
    for _, members in twins.groupby("group", sort=True):
        share = float(members["share_topk"].iloc[0])
        seen = [t for t in members["term"] if freq.get(t, 0.0) > 0]
        # A group matters here when the top k needs one of it but no single member holds.
        settled = any(freq.get(t, 0.0) >= TWIN_SHARE for t in members["term"])
        if len(seen) < 2 or share < TWIN_SHARE or settled:
            continue
        names = ", ".join(members["term"])
        how = "always contains" if share == 1 else f"contains in {share:.0%} of runs"
        lines.append(
            f"The top {k} {how} one of {{{names}}}: these swap among themselves, not with "
            "other features."
        )
    h = study.headline
    corr = h.get("nogueira_corr", math.nan)
    if not math.isnan(corr):
        threshold = study.settings.corr_threshold
        lines.append(
            f"Counting swaps among near-twins ({twins['group'].nunique()} group(s) of features "
            f"with |Spearman rho| >= {threshold}, `term_groups.json`) as agreement, "
            f"Phi_C = {interval(corr, h['nogueira_corr_ci_low'], h['nogueira_corr_ci_high'])} "
            f"against Phi = {headline_phi(study)}."
        )
    return lines


def pareto_paragraph(study: Study) -> str:
    """The Pareto front in words, for the summary (the recommendation is in its verdict)."""
    if study.pareto is None:
        return ""
    text = pareto.front_sentence(study.pareto, study.settings.objective)
    return f"\n### Accurate and stable\n\n{text}\n" if text else ""


def shape_sentence(table: pd.DataFrame, mean: float) -> str:
    """The shape study in words, for the summary."""
    if table.empty or math.isnan(mean):
        return ""
    worst = table.sort_values("agreement").iloc[0]
    return (
        f"\n### Do the shape functions agree?\n\nOver the {len(table)} main terms in some "
        f"run's top k, the runs' shape functions correlate {mean:.2f} on average "
        f"(`shape_agreement_top_k`; 1 = the same form, `shapes/<term>.png`); the least: "
        f"**{worst['term']}** {worst['agreement']:.2f} ({worst['reading']}).\n"
    )


def print_study(study: Study, parent_id: str) -> None:
    print(f"sweep run {parent_id} ({store.describe_uri()})")
    for line in verdict_lines(study):
        print(verdicts.plain(line))
    wide = width_sentence(study)
    if wide:
        print(verdicts.plain(wide))
    if study.score == "r2":
        print("A regression: mean_r2 is the mean R2 on the runs' test splits.")
    if study.positive_classes:
        print(f"F1, precision and recall are about class {', '.join(study.positive_classes)}.")
    if study.n_failed:
        print(f"{study.n_failed} job run(s) did not finish and are left out.")
    if study.orphaned:
        print(
            f"{len(study.orphaned)} of them were left RUNNING by a process that is gone and are "
            f"closed KILLED: {', '.join(study.orphaned[:5])}"
            + (" ..." if len(study.orphaned) > 5 else "")
        )
    if study.at_max_rounds:
        print(
            f"{len(study.at_max_rounds)} run(s) had outer bags that never early-stopped and were "
            "stopped by the round cap (see their bags_at_max_rounds)."
        )
    warned = warning_sentence(study)
    if warned:
        print(verdicts.plain(warned))
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(settings_table(study).to_string(index=False))
    if study.pareto is not None:  # the recommendation is in the verdict, first
        print(verdicts.plain(pareto.front_sentence(study.pareto, study.settings.objective)))
    for line in verdicts.sentences(study):
        print(verdicts.plain(line))
    near_best = verdicts.near_best_sentences(study)
    if near_best:
        print("Every near-best model: " + verdicts.plain(near_best))
    for line in row_words.row_lines(study):
        print(verdicts.plain(line))
