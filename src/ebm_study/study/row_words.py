"""The per-row study (study/rows.py) in words: the description's paragraph, the page's
section, the printed study. Markdown; study/words.py's conventions (**term**, `metric`)."""

from __future__ import annotations

import math

from ebm_study.measures.rows import AGREE
from ebm_study.rounding import interval
from ebm_study.study.compute import Study
from ebm_study.study.tables import fmt
from ebm_study.tracking import tags

TITLE = "Do a row's reasons and its prediction survive a retrain?"


def _est(est) -> str:
    return interval(est.value, est.ci_low, est.ci_high)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def percent(est) -> str:
    """A share as a percentage, rounded to its interval: 0.70% (0.56–0.85%)."""
    low, high = est.ci_low * 100, est.ci_high * 100
    text = interval(est.value * 100, low, high)
    return text.replace(" (", "% (").replace(")", "%)") if "(" in text else text + "%"


def reason_sentence(study: Study) -> str:
    rs = study.rows
    r, found = rs.top_reasons, rs.reasons
    stability = (
        f"a row's top {r} reasons agree {_est(found.stability)} between two retrains "
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
            f"runs (`{tags.REASON_AGREEMENT}_groups`)"
            + (
                f" and their top {r} agree {_est(g.stability)} (`{tags.REASON_STABILITY}_groups`)"
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
        if not churn.churn.defined:
            return ""
        est = churn.churn
        if est.ci_low > 1:
            reading = (
                "a retrain moves a prediction more than the model's own bags say it is uncertain"
            )
        elif est.ci_high < 1:
            reading = "a retrain moves a prediction less than one model's bags differ"
        elif math.isnan(est.ci_low):
            reading = "with no interval, not yet told apart from the bags' own spread"
        else:
            reading = "the interval holds 1: not told apart from the bags' own spread"
        return (
            f"A row's prediction differs by {fmt(churn.spread)} (standard deviation, the "
            f"target's units) between retrains, against {fmt(churn.bag_spread)} over one "
            f"model's outer bags (`predict_with_uncertainty`): a ratio of {_est(churn.churn)} "
            f"(`{tags.PREDICTION_CHURN}`): {reading}."
        )
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
        f"Two retrains predict a different class for {percent(churn.churn)} of the rows "
        f"(`{tags.PREDICTION_CHURN}`, a share){about_near}."
    )


def pattern_sentence(study: Study) -> str:
    """The least stable rows' common pattern: which terms trade their top reason."""
    rs = study.rows
    table = rs.table
    unstable = table["top_reason_share"] < AGREE - 1e-9
    m = int(unstable.sum())
    if m == 0:
        return f"Every row has one top reason in at least {AGREE:.0%} of the runs."
    worst = table.sort_values("top_reason_share").head(3)
    rows = ", ".join(str(v) for v in worst["row"])
    text = f"The {m} rows that change their top reason"
    if len(rs.swaps):
        top = rs.swaps.iloc[0]
        a, b, n = top["term_a"], top["term_b"], int(top["rows"])
        twin = (
            "; near-twin features, so either is the same signal" if bool(top["near_twins"]) else ""
        )
        text += f" most often trade **{a}** and **{b}** ({n} of the {m}{twin})"
    if not rs.regression and int(table["near_boundary"].sum()) >= 5:  # else nothing to compare
        inside = int(table.loc[unstable, "near_boundary"].sum())
        overall = int(table["near_boundary"].sum())
        text += (
            f"; {inside} of them ({inside / m:.0%}) are near the decision boundary, against "
            f"{overall} of all {len(table)} rows ({overall / len(table):.0%})"
        )
    return text + f". The least stable: rows {rows} (`{tags.REASONS_TABLE}`)."


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
    lines = [reason_sentence(study), churn_sentence(study), pattern_sentence(study)]
    if study.rows.n_runs < study.rows.n_runs_total:
        lines.append(
            f"The per-row study reads {study.rows.n_runs} of the {study.rows.n_runs_total} runs "
            "(whole split seeds, in the study's order)."
        )
    lines.append(advice_sentence(study))
    return [line for line in lines if line]


def row_paragraph(study: Study) -> str:
    """For the description."""
    lines = row_lines(study)
    if not lines:
        return ""
    return f"\n### {TITLE}\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"


def row_caption(study: Study) -> str:
    return (
        "Left: the reference rows by how often retrains give them their most frequent top "
        f"reason; the green bar holds the rows that keep it in at least {AGREE:.0%} of them. "
        "Right: in the rows that do not, the two terms that trade the top place. A row's "
        "reasons, with their shares, are in reasons.json."
    )
