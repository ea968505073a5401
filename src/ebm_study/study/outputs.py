"""What a computed study puts on the sweep's parent run: metrics (every digit), tables (rounded
to their intervals), pictures, the description, the one-page report (`study.html`), one run a
setting. Built here, written by tracking/ (study/publish.py calls both)."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure

from ebm_study.measures import pareto
from ebm_study.metric_names import lower_is_better
from ebm_study.rounding import interval
from ebm_study.study import cloud, page, plots, render, row_plots, row_words, verdicts
from ebm_study.study.compute import Study, by_split_seed
from ebm_study.study.reference import reference, shape_study
from ebm_study.study.tables import recommended_keys, rounded, settings_table
from ebm_study.study.words import (
    detail_lines,
    pareto_paragraph,
    shape_sentence,
    summary_markdown,
    twin_sentences,
    verdict_lines,
    width_sentence,
)
from ebm_study.tracking import store, tags
from ebm_study.tracking.setting_runs import SettingRun


@dataclass
class Outputs:
    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)  # the pictures, as PNG files
    note: str = ""
    run_tags: dict[str, str] = field(default_factory=dict)
    page: str = ""
    setting_runs: list[SettingRun] = field(default_factory=list)


def interval_by(study: Study) -> str:
    """What the top-k frequency's interval resamples (compute.topk_frequency)."""
    design = study.design()
    if not by_split_seed(design, study.n_runs):
        return "Wilson's"
    return "by split seed" if design.n_groups >= 3 else "none with 2 split seeds"


def points(study: Study) -> pd.DataFrame:
    """Every setting on both objectives, as the accuracy picture takes them: the Pareto table,
    or for a sweep of one setting its one row (on the front and recommended, alone)."""
    if study.pareto is not None:
        return study.pareto
    row = study.by_config.iloc[0]
    score = study.score
    one = {
        "setting": row["setting"],
        "trials": "",
        "n_runs": row["n_runs"],
        "metric": score,
        "metric_mean": row[f"mean_{score}"],
        "metric_ci_low": row.get(f"{score}_ci_low", math.nan),
        "metric_ci_high": row.get(f"{score}_ci_high", math.nan),
        "stability": row["nogueira"],
        "stability_ci_low": row["nogueira_ci_low"],
        "stability_ci_high": row["nogueira_ci_high"],
        "on_front": True,
        "recommended": True,
        "indistinct": False,
    }
    return pd.DataFrame([{c: one.get(c, math.nan) for c in pareto.COLUMNS}])


def build(study: Study, jobs: pd.DataFrame, parent_id: str, sweep_name: str) -> Outputs:
    """Everything the study writes, from the study and the sweep's jobs (the shapes read the
    runs' models and the data's rows)."""
    out = Outputs()
    k = study.settings.top_k
    out.metrics = {
        name if name.startswith(tags.MEAN_PREFIX) else f"{tags.STABILITY_PREFIX}{name}": value
        for name, value in study.headline.items()
        # No interval is logged where it means nothing (too few runs): absent, not a NaN.
        if not ("_ci_" in name and math.isnan(value))
    }
    out.metrics[tags.N_AT_MAX_ROUNDS] = len(study.at_max_rounds)
    out.metrics[tags.N_RELIABLE] = verdicts.n_reliable(study)
    tables = out.tables
    tables[tags.STABILITY_BY_CONFIG] = rounded(study.by_config)
    tables[tags.TOPK_FREQUENCY] = rounded(study.topk_frequency)
    if study.twins is not None:
        tables[tags.TERM_GROUPS] = rounded(study.twins)
    if study.pareto is not None:
        front = study.pareto
        tables[tags.PARETO_FRONT] = rounded(front[front["on_front"]].reset_index(drop=True))
    tables[tags.ORDERINGS] = rounded(study.orderings)
    tables[tags.RELIABLE_TOP_K] = rounded(study.reliable)
    figures: dict[str, Figure] = {}
    ordered = list(study.ranks.index)
    metric = study.settings.metric or study.score
    figures[tags.ACCURACY_CHART] = plots.accuracy_vs_stability(
        points(study), k, study.settings.objective, lower_is_better(metric)
    )
    figures[tags.TOPK_FREQUENCY_CHART] = plots.topk_frequency_chart(
        study.topk_frequency, k, study.n_runs, interval_by(study)
    )
    figures[tags.RANK_HEATMAP] = plots.rank_heatmap(
        study.ranks,
        k,
        [study.run_seeds.get(r, r) for r in ordered],
        [study.run_settings.get(r, "") for r in ordered],
        study.seeds_name,
    )
    if study.near_best is not None:
        tables[tags.NEAR_BEST] = rounded(study.near_best)
        figures[tags.NEAR_BEST_CHART] = cloud.near_best_chart(
            study.near_best, k, verdicts.near_best_how(study)
        )
    fitted = {}
    if study.groups is not None:
        g = study.groups
        tables[tags.GROUP_TOPK] = rounded(g.table)
        for suffix, value in (
            ("", g.stability.value),
            ("_ci_low", g.stability.ci_low),
            ("_ci_high", g.stability.ci_high),
        ):
            if not math.isnan(value):
                out.metrics[tags.STABILITY_GROUPS + suffix] = value
    rs = study.rows
    if rs is not None:
        out.metrics.update(rs.metrics())
        tables[tags.REASONS_TABLE] = rounded(rs.table)
        if len(rs.by_setting):
            tables[tags.REASONS_BY_SETTING] = rounded(rs.by_setting)
        figures[tags.REASONS_CHART] = row_plots.reasons_chart(
            rs.table, rs.swaps, rs.n_runs, rs.about
        )
    # The models read by the groups and the rows: the shapes read them too, then let them go.
    for part in (study.groups, rs):
        if part is not None:
            fitted.update({r: m for r, m in part.fitted.items() if r not in fitted or m})
            part.fitted = {}
    shape_table, shape_figures, shape_mean = shape_study(study, jobs, fitted)
    if len(shape_table):
        tables[tags.SHAPE_STABILITY] = rounded(shape_table)
        out.metrics[tags.SHAPE_AGREEMENT] = shape_mean
    figures.update(shape_figures)
    out.images = render.pngs(figures)
    out.run_tags = study.settings.to_tags()
    if study.settings.corr_threshold is not None or len(shape_table):  # they read the rows
        ref = reference(str(jobs.index[jobs["status"] == "FINISHED"][0]))
        if ref is not None:
            out.run_tags[tags.REFERENCE] = ref.describe()
    if rs is not None:
        out.run_tags[tags.REASON_ROWS] = rs.about
    if len(study.positive_classes) == 1:
        out.run_tags[tags.POSITIVE_CLASS] = study.positive_classes[0]
    shapes_words = shape_sentence(shape_table, shape_mean)
    out.note = summary_note(study, shapes_words)
    captions = {
        path: (row.term, shape_caption(row, study))
        # One picture a row of the table, made in its order (reference.shape_study).
        for path, row in zip(shape_figures, shape_table.itertuples(), strict=True)
    }
    out.page = study_page(study, out.images, captions, shapes_words, parent_id, sweep_name)
    out.setting_runs = setting_runs(study, jobs)
    return out


def shape_caption(row, study: Study) -> str:
    return (
        f"Over {row.n_runs} runs the shapes agree {row.agreement:.2f} ({row.reading}; 1 = one "
        "form). Each line is a setting's median shape across its runs, its band the spread "
        "of those runs; the strip under it is where the data lie. Where a setting's band is "
        "narrow over the data, a retrain draws the same shape."
    )


def study_page(
    study: Study,
    images: dict[str, bytes],
    captions: dict[str, tuple[str, str]],
    shapes_words: str,
    parent_id: str,
    sweep_name: str,
) -> str:
    """study.html: the verdict, the per-setting table, the pictures, the details."""
    splits = int(study.headline.get("n_split_seeds", 0) or 0)
    n = len(study.by_config)
    meta = (
        f"sweep run {parent_id} in {store.describe_uri()} · {study.n_runs} runs on {splits} "
        f"split seeds, {n} setting{'s' if n != 1 else ''} · studied "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    verdict = [*verdict_lines(study), width_sentence(study)]
    names = {
        "accuracy": tags.ACCURACY_CHART,
        "frequency": tags.TOPK_FREQUENCY_CHART,
        "ranks": tags.RANK_HEATMAP,
        "near_best": tags.NEAR_BEST_CHART,
    }
    sections = []
    if study.rows is not None:
        sections.append(
            page.Section(
                row_words.TITLE,
                row_words.row_lines(study),
                page.Picture(
                    "Reasons per row", images[tags.REASONS_CHART], row_words.row_caption(study)
                )
                if tags.REASONS_CHART in images
                else None,
            )
        )
    details = [
        *twin_sentences(study),
        *detail_lines(study),
        pareto_paragraph(study).split("\n\n", 1)[-1].strip(),
        verdicts.near_best_sentences(study),
        shapes_words.split("\n\n", 1)[-1].strip(),
    ]
    return page.page(
        f"Stability study: {sweep_name}",
        meta,
        verdict,
        settings_table(study) if n > 1 else None,
        page.pictures(study, images, names, captions),
        [d for d in details if d],
        sections,
    )


def setting_runs(study: Study, jobs: pd.DataFrame) -> list[SettingRun]:
    """One summary run a setting: its mean score and stability with their intervals."""
    score = study.score
    recommended = recommended_keys(study)
    row_values = {}  # config_key -> the per-row study's measures within the setting
    if study.rows is not None and len(study.rows.by_setting):
        names = [tags.REASON_AGREEMENT]
        for name in (tags.REASON_STABILITY, tags.PREDICTION_CHURN):
            names += [name, f"{name}_ci_low", f"{name}_ci_high"]
        row_values = study.rows.by_setting.set_index(tags.CONFIG_KEY)[names].to_dict("index")
    finished = jobs[jobs["status"] == "FINISHED"]
    out = []
    for row in study.by_config.to_dict("records"):
        key = str(row[tags.CONFIG_KEY])
        members = finished.index[finished[tags.CONFIG_KEY].astype(str) == key]
        if not len(members):
            continue
        values = {
            f"mean_{score}": row[f"mean_{score}"],
            f"mean_{score}_ci_low": row.get(f"{score}_ci_low", math.nan),
            f"mean_{score}_ci_high": row.get(f"{score}_ci_high", math.nan),
            "n_runs": row["n_runs"],
            "n_split_seeds": row["n_split_seeds"],
        }
        for name in ("nogueira", "nogueira_corr"):
            for suffix in ("", "_ci_low", "_ci_high"):
                values[f"{tags.STABILITY_PREFIX}{name}{suffix}"] = row.get(name + suffix)
        values[f"{tags.STABILITY_PREFIX}nogueira_within_split"] = row["nogueira_within_split"]
        values[tags.WITHIN_RUN] = row.get("within_run", math.nan)
        values.update(row_values.get(key, {}))
        metrics = {k: float(v) for k, v in values.items() if v is not None and not pd.isna(v)}
        label = str(row["setting"])
        run_tags = {tags.SUMMARY_OF: label}
        if study.pareto is not None:
            run_tags[tags.RECOMMENDED] = str(key in recommended).lower()
        if "trial" in row and pd.notna(row["trial"]):
            run_tags[tags.TRIAL] = str(int(row["trial"]))
        score_words = interval(
            row[f"mean_{score}"], row.get(f"{score}_ci_low"), row.get(f"{score}_ci_high")
        )
        phi = interval(row["nogueira"], row["nogueira_ci_low"], row["nogueira_ci_high"])
        note = (
            f"Setting **{label}**: {row['n_runs']} runs on {row['n_split_seeds']} split seeds. "
            f"Mean {score} {score_words}; top-{study.settings.top_k} stability, Nogueira's Phi, "
            f"{phi} (95% intervals by split seed). The sweep's study is on its parent run."
        )
        out.append(
            SettingRun(
                config_key=key,
                name=f"{label} (setting: {plural(int(row['n_runs']), 'run')})",
                job_id=str(members[0]),
                metrics=metrics,
                tags=run_tags,
                note=markdown_safe(note),
            )
        )
    return out


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# A code span: a run of backticks closed by a run of the same length (CommonMark), over lines.
_CODE_SPAN = re.compile(r"((?<!`)(`+)(?!`).+?(?<!`)\2(?!`))", re.S)


def markdown_safe(text: str) -> str:
    """Markdown whose user strings (terms, categories, settings) cannot become markup: HTML
    brackets as entities, link brackets escaped, outside code spans (inside one the renderer
    shows every character as written, `&lt;` too). A backslash becomes an entity first (but in
    `\\|`, a table's escaped bar): a user's `\\` would otherwise undo an escape, or hide a
    backtick from the split into code spans. The study's own Markdown uses none of these."""
    text = re.sub(r"\\(?!\|)", "&#92;", text)
    parts = _CODE_SPAN.split(text)
    out = []
    # split gives outside, span, its backticks, outside, ...: escape the outside parts only.
    for i in range(0, len(parts), 3):
        safe = parts[i].replace("<", "&lt;").replace(">", "&gt;")
        out.append(re.sub(r"([\[\]])", r"\\\1", safe))
        if i + 1 < len(parts):
            out.append(parts[i + 1])
    return "".join(out)


# MLflow cuts a tag's value at 8,000 characters: the description must fit, so the per-setting
# table gives up rows first (the JSON tables hold every one).
NOTE_LIMIT = 8000


def summary_note(study: Study, shapes: str) -> str:
    """The parent's description, within NOTE_LIMIT: the table shortened to fit, and, past
    that, cut at a line with a word on where the rest is."""

    def note(rows: int | None) -> str:
        return markdown_safe(
            summary_markdown(study, rows)
            + pareto_paragraph(study)
            + verdicts.near_best_paragraph(study)
            + row_words.row_paragraph(study)
            + shapes
            + f"\n`{tags.STUDY_PAGE}` (this run's artifacts) shows the study on one page.\n"
        )

    text, rows = note(None), len(study.by_config)
    while len(text) > NOTE_LIMIT and rows > 3:
        rows = max(3, rows // 2)
        text = note(rows)
    if len(text) > NOTE_LIMIT:
        cut = "\n\n(cut to MLflow's 8,000 characters: the study's JSON tables hold the rest)\n"
        text = text[: text.rfind("\n", 0, NOTE_LIMIT - len(cut))] + cut
    return text
