"""The per-row study (study/rows.py) in words: the description's paragraph, the page's
section, the printed study. Markdown; study/words.py's conventions (**term**, `metric`)."""

from __future__ import annotations

import math

from ebm_study.measures.rows import AGREE
from ebm_study.measures.stability import Estimate
from ebm_study.rounding import interval, number
from ebm_study.study.compute import Study
from ebm_study.study.tables import fmt, recommended_keys
from ebm_study.tracking import tags

TITLE = "Do a row's reasons and its prediction survive a retrain?"


def _est(est) -> str:
    return interval(est.value, est.ci_low, est.ci_high)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def percent(est) -> str:
    """A share as a percentage, rounded to its interval: 0.70% (0.56–0.85%); 0.70% alone
    without one."""
    if math.isnan(est.ci_low) or math.isnan(est.ci_high):
        return f"{number(est.value * 100)}% (no interval)"
    text = interval(est.value * 100, est.ci_low * 100, est.ci_high * 100)
    return text.replace(" (", "% (").replace(")", "%)")


def retrains(rs) -> str:
    """What two of the runs are: independent retrains, or model seeds on one split."""
    return "two retrains" if rs.across else "two model seeds on the one split (the data held fixed)"


def reason_sentence(study: Study) -> str:
    rs = study.rows
    r, found = rs.top_reasons, rs.reasons
    stability = (
        f"a row's top {plural(r, 'reason')} agree{'s' if r == 1 else ''} "
        f"{_est(found.stability)} between {retrains(rs)} "
        f"(`{tags.REASON_STABILITY}`: Phi of the row's top-{r} sets, 1 = the same {r} every "
        "time, 0 = no more than chance)"
        if found.stability.defined
        else f"its top-{r} agreement is undefined: {found.stability.note}"
    )
    grouped = ""
    if rs.groups is not None:
        g = rs.groups
        grouped = (
            f" With each near-twin group as one reason (its members' contributions summed), "
            f"{g.agreement:.0%} of rows have the same top one in at least {AGREE:.0%} of the "
            f"runs (`{tags.REASON_AGREEMENT}{tags.GROUPS_SUFFIX}`)"
            + (
                f" and their top {r} agree {_est(g.stability)} "
                f"(`{tags.REASON_STABILITY}{tags.GROUPS_SUFFIX}`)"
                if g.stability.defined
                else ""
            )
            + "."
        )
    return (
        f"Per row, over {rs.about} scored by {rs.n_runs} runs: {found.agreement:.0%} of rows "
        f"have the same top reason in at least {AGREE:.0%} of the {rs.n_runs} runs "
        f"(`{tags.REASON_AGREEMENT}`, which can overstate how many would in more retrains); "
        f"{stability}.{grouped}"
    )


def churn_sentence(study: Study) -> str:
    rs = study.rows
    churn = rs.churn
    if rs.regression:
        return spread_sentence(rs)
    if churn.churn.defined and churn.churn.value == 0:
        return f"No row's predicted class differs between any two of the {rs.n_runs} runs."
    near = churn.near_boundary
    about_near = ""
    if near is not None and near.defined:
        about_near = (
            f"; for the {plural(churn.n_near_boundary, 'row')} near the decision boundary "
            "(the runs' mean probabilities of its two likeliest classes within 0.2), "
            f"{percent(near)}"
        )
    elif churn.n_near_boundary == 0:
        about_near = "; no row is near the decision boundary"
    return (
        f"{retrains(rs).capitalize()} predict a different class for {percent(churn.churn)} of "
        f"the rows (`{tags.PREDICTION_CHURN}`, a share){about_near}."
    )


def spread_sentence(rs) -> str:
    """A regression's churn: the spread across retrains against the model's own bags'."""
    est = rs.churn.churn
    if not est.defined:  # one bag a model: nothing of its own to compare with
        return (
            f"A row's prediction has a standard deviation of {fmt(rs.churn.spread)} (the "
            f"target's units) across {retrains(rs).removeprefix('two ')} "
            f"(`{tags.PREDICTION_SPREAD}`); with one outer bag a model has no spread of its own "
            "to compare it with."
        )
    if est.ci_low > 1:
        reading = "a retrain moves a prediction more than the model's own bags allow for"
    elif est.ci_high < 1:
        reading = "a retrain moves a prediction less than the model's own bags allow for"
    elif math.isnan(est.ci_low):
        reading = "with no interval, not told apart from the bags' own"
    else:
        reading = "the interval holds 1: not told apart from the bags' own"
    return (
        f"A row's prediction has a standard deviation of {fmt(rs.churn.spread)} (the target's "
        f"units) across {retrains(rs).removeprefix('two ')}, against {fmt(rs.churn.bag_spread)} "
        "from each model's own outer bags (the standard error of its mean over them: "
        f"`predict_with_uncertainty`'s spread over the square root of bags - 1): a ratio of "
        f"{_est(est)} (`{tags.PREDICTION_CHURN}`): {reading}."
    )


def pattern_sentence(study: Study) -> str:
    """The least stable rows' common pattern: which terms trade their top reason."""
    rs = study.rows
    table = rs.table
    unstable = table["top_reason_share"] < AGREE - 1e-9
    m = int(unstable.sum())
    if m == 0:
        return f"Every row has one top reason in at least {AGREE:.0%} of the runs."
    worst = table[unstable].sort_values("top_reason_share", kind="stable").head(3)
    named = ", ".join(str(v) for v in worst["row"])
    one = m == 1
    text = f"The {plural(m, 'row')} that {'changes its' if one else 'change their'} top reason"
    if len(rs.swaps):
        top = rs.swaps.iloc[0]
        a, b, n = top["term_a"], top["term_b"], int(top["rows"])
        twin = (
            "; near-twin features, so either is the same signal" if bool(top["near_twins"]) else ""
        )
        text += f" most often trade{'s' if one else ''} **{a}** and **{b}** ({n} of the {m}{twin})"
    if not rs.regression and int(table["near_boundary"].sum()) >= 5:  # else nothing to compare
        inside = int(table.loc[unstable, "near_boundary"].sum())
        overall = int(table["near_boundary"].sum())
        text += (
            f"; {inside} of them ({inside / m:.0%}) are near the decision boundary, against "
            f"{overall} of all {len(table)} rows ({overall / len(table):.0%})"
        )
    least = "row" if len(worst) == 1 else "rows"
    return text + f". The least stable: {least} {named} (`{tags.REASONS_TABLE}`)."


def setting_sentence(study: Study) -> str:
    """The recommended setting's own figures (the whole sweep's mix every setting's runs)."""
    rs = study.rows
    table = rs.by_setting
    chosen = recommended_keys(study)
    if table.empty or not chosen:
        return ""
    row = table[table[tags.CONFIG_KEY].astype(str).isin(chosen)]
    if row.empty:
        return ""
    row = row.iloc[0]

    def est(name: str) -> Estimate:
        return Estimate(row[name], row.get(f"{name}_ci_low"), row.get(f"{name}_ci_high"))

    churn = (
        ""
        if rs.regression
        else f", `{tags.PREDICTION_CHURN}` {percent(est(tags.PREDICTION_CHURN))}"
    )
    return (
        f"Within the recommended setting, {row['setting']} ({row['n_runs']} runs): "
        f"`{tags.REASON_STABILITY}` {_est(est(tags.REASON_STABILITY))}{churn} (each setting's: "
        f"`{tags.REASONS_BY_SETTING}`)."
    )


def advice_sentence(study: Study) -> str:
    r = study.rows.top_reasons
    return (
        f"For a decision about one row: `ebm-study-predict --reasons {r}` gives its reason "
        "codes with how often each is among its top reasons across the setting's runs; quote a "
        f"reason whose share is below {AGREE:.0%} as one that a retrain may change."
    )


def row_lines(study: Study) -> list[str]:
    """The per-row study, a sentence a line (none when it was not made)."""
    if study.rows is None:
        return []
    lines = [
        reason_sentence(study),
        churn_sentence(study),
        pattern_sentence(study),
        setting_sentence(study),
    ]
    if study.rows.n_runs < study.rows.n_runs_total:
        lines.append(
            f"The per-row study reads {study.rows.n_runs} of the {study.rows.n_runs_total} runs "
            "(whole split seeds, in the study's order)."
        )
    lines.append(advice_sentence(study))
    return [line for line in lines if line]


def row_paragraph(study: Study) -> str:
    """For the description, kept short (MLflow's 8,000 characters): the figures, and the
    pattern of the rows that change; the words around them are on the page and printed."""
    rs = study.rows
    if rs is None:
        return ""
    found, r = rs.reasons, rs.top_reasons
    first = (
        f"{found.agreement:.0%} of {rs.about.removeprefix('the ')} have the same top reason in "
        f"at least {AGREE:.0%} of the {rs.n_runs} runs (`{tags.REASON_AGREEMENT}`)"
    )
    if found.stability.defined:
        first += f"; their top {r} agree {_est(found.stability)} (`{tags.REASON_STABILITY}`)"
    if rs.groups is not None:
        first += f"; by near-twin group, {rs.groups.agreement:.0%}" + (
            f" and {_est(rs.groups.stability)}" if rs.groups.stability.defined else ""
        )
    lines = [first + ".", churn_sentence(study), pattern_sentence(study)]
    lines = [line for line in lines if line]
    return (
        f"\n### {TITLE}\n\n"
        + "\n".join(f"- {line}" for line in lines)
        + f"\n\nPer setting: `{tags.REASONS_BY_SETTING}`; each row: `{tags.REASONS_TABLE}`.\n"
    )


def row_caption(study: Study) -> str:
    return (
        "Left: the reference rows by how often the runs give them their most frequent top "
        f"reason; the green bar holds the rows that keep it in at least {AGREE:.0%} of them. "
        "Right: in the rows that do not, the two terms that trade the top place. A row's "
        "reasons, with their shares, are in reasons.json."
    )
