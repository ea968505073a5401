"""The stability study of a sweep, computed from what MLflow holds and logged on its parent run.

Runs at the end of every sweep (the sweep callback calls `publish`) and on its own as
`ebm-study-report`, so it works after a failed job, for runs made by any launcher, on old stores.
"""

from __future__ import annotations

import functools
import logging
import math
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ebm_study import cli, pareto, pipeline, plots, progress, redundancy, settings, shapes
from ebm_study.config import compose_default
from ebm_study.errors import UserError
from ebm_study.metrics import lower_is_better
from ebm_study.settings import StudySettings
from ebm_study.study import (
    Study,
    headline_sentence,
    run_study,
    settings_table,
    summary_markdown,
    warning_sentence,
)
from ebm_study.tracking import models, runs, store, sweeps, tags

log = logging.getLogger(__name__)
PROG = "ebm-study-report"
# The command line's spelling of each study setting, for its error messages.
CLI_NAMES = {"top_k": "--top-k", "terms": "--terms", "rbo_p": "--rbo-p", "metric": "--metric"}


@functools.cache
def default_settings() -> StudySettings:
    """The settings conf/ gives a plain `ebm-study`: for sweeps that recorded none."""
    return settings.from_config(compose_default())


def sweep_settings(parent) -> StudySettings:
    """The settings the sweep was studied with, as its parent run records them."""
    return settings.from_tags(parent.data.tags, fallback=default_settings)


def compute(
    experiment_id: str,
    parent_id: str,
    study_settings: StudySettings | None = None,
    jobs: pd.DataFrame | None = None,
) -> Study:
    """The study of the sweep's finished jobs, from the store alone (`jobs`: the sweep's
    jobs_frame, when the caller already read it; settings: by default the sweep's own)."""
    parent = sweeps.get_run(parent_id)
    if parent is None:
        raise UserError(f"--sweep={parent_id} is not a run in {store.describe_uri()}")
    study_settings = study_settings or sweep_settings(parent)
    if jobs is None:
        jobs = sweeps.jobs_frame(experiment_id, parent_id)
    if jobs.empty:
        raise UserError(f"sweep run {parent_id} has no job runs to study")
    finished = jobs[jobs["status"] == "FINISHED"]
    if finished.empty:
        raise UserError(f"sweep run {parent_id} has no FINISHED job runs ({len(jobs)} others)")
    # Thousands of runs, or a far server, take a while: the tally shows how far it is.
    with progress.Tally(len(finished), "study: importance tables read") as tally:
        importances = sweeps.load_importances(finished["artifact_uri"].to_dict(), tally.advance)
    study = run_study(
        finished,
        importances,
        study_settings,
        sweeps.swept_keys(parent),
        n_failed=len(jobs) - len(finished),
        twins=near_twins(finished.index[0], study_settings.corr_threshold),
    )
    errors = jobs[tags.ERROR].fillna("") if tags.ERROR in jobs else pd.Series(dtype=str)
    study.orphaned = jobs.loc[errors.str.startswith("orphaned"), "run_name"].astype(str).tolist()
    if tags.SWEEPER in parent.data.tags:  # seeds on demand: how many each setting got, and why
        study.by_config = with_seeds(
            study.by_config, sweeps.read_table(parent_id, tags.SEEDS_BY_SETTING)
        )
    study.pareto = pareto_front(study, finished)
    return study


def with_seeds(by_config: pd.DataFrame, seeds_table: pd.DataFrame | None) -> pd.DataFrame:
    """The study's table with each setting's `seeds_used` and why it `stopped` (a sweeper's
    seeds_by_setting.json), where it has them."""
    if seeds_table is None or seeds_table.empty:
        return by_config
    columns = [tags.CONFIG_KEY, "seeds_used", "stopped"]
    if "trial" in seeds_table and seeds_table["trial"].notna().any():
        columns.append("trial")
    latest = seeds_table[columns].drop_duplicates(tags.CONFIG_KEY, keep="last")
    return by_config.merge(latest, on=tags.CONFIG_KEY, how="left")


def pareto_front(study: Study, finished: pd.DataFrame) -> pd.DataFrame | None:
    """Every setting on the two objectives (study.metric, or the score; study.objective), the
    front and the recommended one: None for a sweep of one setting."""
    if len(study.by_config) < 2:
        return None
    chosen = study.settings
    metric = chosen.metric or study.score
    return pareto.table(
        study.by_config,
        finished,
        metric,
        chosen.objective,
        lower_is_better(metric),
        chosen.min_stability,
    )


# The rows the study reads features on (near-twins, shapes): the first run's training rows, a
# seeded sample of them beyond this many. On 64,000 and 160,000 training rows, shape agreements
# from 5,000 were within 0.005 of all rows', Spearman correlations within 0.023 (about 0.003
# near the near-twin threshold of 0.9), at a fraction of the time and memory (README).
REFERENCE_ROWS = 5000
REFERENCE_SEED = 0


@dataclass(frozen=True)
class Reference:
    """The rows the study reads features on, and where they come from."""

    X: pd.DataFrame  # at most REFERENCE_ROWS rows
    run_id: str  # the run whose training rows they are
    training_rows: int  # how many that run had

    def describe(self) -> str:
        """For the parent run's tag and the summary."""
        if len(self.X) == self.training_rows:
            return f"the {self.training_rows} training rows of run {self.run_id}"
        return (
            f"{len(self.X)} of the {self.training_rows} training rows of run {self.run_id} "
            f"(a sample, seed {REFERENCE_SEED})"
        )


@functools.lru_cache(maxsize=4)
def reference(run_id: str) -> Reference | None:
    """The training rows of one of the sweep's runs (its logged config says which data and
    split), a seeded sample of REFERENCE_ROWS of them on a larger table, on which features are
    correlated and shapes compared; None, with a warning, when the data cannot be read (a
    moved CSV): the study stands without what needs them."""
    try:
        X = pipeline.prepare(runs.run_config(run_id)).split.X_train
    except Exception as err:  # noqa: BLE001 - the rest of the study stands without it
        log.warning("the sweep's data cannot be read again: %s: %s", type(err).__name__, err)
        return None
    total = len(X)
    if total > REFERENCE_ROWS:
        X = X.sample(n=REFERENCE_ROWS, random_state=REFERENCE_SEED)
    return Reference(X, run_id, total)


def near_twins(run_id: str, threshold: float | None) -> pd.DataFrame | None:
    """The near-twin features of a sweep (None when grouping is off or the data unreadable):
    the study then has no correlation-aware measure."""
    ref = reference(run_id) if threshold is not None else None
    return None if ref is None else redundancy.groups(ref.X, threshold)


def shape_study(study: Study, jobs: pd.DataFrame) -> tuple[pd.DataFrame, dict, float]:
    """Per main term in some run's top k (at most shapes.MAX_TERMS): every run's shape on the
    reference rows, their agreement and a picture (over the categories of a categorical
    feature; a panel a class for 3 or more classes); the table, the figures by artifact path,
    and the mean agreement. Empty when the runs kept no models or the data is unreadable."""
    finished = jobs[jobs["status"] == "FINISHED"]
    order = [r for r in study.ranks.index if pd.notna(finished["model_uri"].get(r))]
    ref = reference(str(finished.index[0])) if order else None
    empty = pd.DataFrame(columns=["term", "n_runs", "agreement", "reading"])
    if ref is None:
        return empty, {}, math.nan
    X = ref.X
    freq = study.topk_frequency
    terms = freq[(freq["kind"] == "main") & (freq["topk_frequency"] > 0)]["term"]
    terms = [t for t in terms if t in X.columns][: shapes.MAX_TERMS]
    if not terms:
        return empty, {}, math.nan
    fitted = {
        r: models.load_estimator(finished.loc[r, "model_uri"]) for r in order[: shapes.MAX_RUNS]
    }
    # One pass of interpret's binning over the reference rows a run; every shape reads it.
    indexes = {r: shapes.bin_indexes(ebm, X) for r, ebm in fitted.items()}
    first = next(iter(fitted.values()))
    classes = [str(c) for c in first.classes_] if shapes.is_multiclass(first) else None
    rows, figures = [], {}
    for term in terms:
        curves, labels, bands = [], [], []
        for run_id, ebm in fitted.items():
            curve = shapes.contributions(ebm, term, indexes[run_id])
            if curve is not None:
                curves.append(curve)
                labels.append(study.run_seeds.get(run_id, run_id))
                bands.append(shapes.bag_band(ebm, term, indexes[run_id]))
        value = shapes.agreement(np.array(curves)) if curves else math.nan
        rows.append(
            {
                "term": term,
                "n_runs": len(curves),
                "agreement": value,
                "reading": shapes.reading(value),
            }
        )
        name = term.replace("/", "_")
        figures[f"{tags.SHAPES_DIR}/{name}.png"] = shapes.figure(
            term,
            X[term],
            curves,
            labels,
            bands,
            value,
            categorical=shapes.is_categorical(first, term),
            classes=classes,
        )
    table = pd.DataFrame(rows, columns=empty.columns) if rows else empty
    values = table["agreement"].astype(float)
    return table, figures, float(values.mean()) if values.notna().any() else math.nan


def pareto_paragraph(study: Study) -> str:
    """The Pareto front and the recommended setting in words, for the summary."""
    if study.pareto is None:
        return ""
    text = pareto.sentence(study.pareto, study.settings.objective, study.settings.min_stability)
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


def publish(
    experiment_id: str,
    parent_id: str,
    study_settings: StudySettings | None = None,
    jobs: pd.DataFrame | None = None,
) -> Study:
    """Compute the study and log it on the parent run: metrics, tables, pictures, summary;
    and on each finished job, its setting's Phi (up to MAX_RUN_COPIES jobs)."""
    # Jobs whose process is gone (kill -9, the OOM killer) would stay RUNNING for ever.
    orphans = sweeps.close_orphans(experiment_id, parent_id, by="ebm-study-report")
    if jobs is None or orphans:
        jobs = sweeps.jobs_frame(experiment_id, parent_id)
    study = compute(experiment_id, parent_id, study_settings, jobs)
    k = study.settings.top_k
    metrics = {
        name if name.startswith(tags.MEAN_PREFIX) else f"{tags.STABILITY_PREFIX}{name}": value
        for name, value in study.headline.items()
        # No interval is logged where it means nothing (too few runs): absent, not a NaN.
        if not ("_ci_" in name and math.isnan(value))
    }
    metrics[tags.N_AT_MAX_ROUNDS] = len(study.at_max_rounds)
    # Tables as people read them in the UI: 3 significant digits (the metrics keep them all).
    tables = {
        tags.STABILITY_BY_CONFIG: rounded(study.by_config),
        tags.TOPK_FREQUENCY: rounded(study.topk_frequency),
    }
    if study.twins is not None:
        tables[tags.TERM_GROUPS] = rounded(study.twins)
    if study.pareto is not None:
        front = study.pareto
        tables[tags.PARETO_FRONT] = rounded(front[front["on_front"]].reset_index(drop=True))
    shape_table, shape_figures, shape_mean = shape_study(study, jobs)
    if len(shape_table):
        tables[tags.SHAPE_STABILITY] = rounded(shape_table)
        metrics[tags.SHAPE_AGREEMENT] = shape_mean
    ordered = list(study.ranks.index)
    figures = {
        tags.TOPK_FREQUENCY_CHART: plots.topk_frequency_chart(
            study.topk_frequency, k, study.n_runs
        ),
        tags.RANK_HEATMAP: plots.rank_heatmap(
            study.ranks,
            k,
            [study.run_seeds.get(r, r) for r in ordered],
            [study.run_settings.get(r, "") for r in ordered],
            study.seeds_name,
        ),
        tags.STABILITY_VS_SCORE.format(score=study.score): plots.stability_vs_score(
            study.by_config, k, study.score
        ),
        **shape_figures,
    }
    if study.pareto is not None:
        metric = str(study.pareto["metric"].iloc[0])
        figures[tags.PARETO_CHART] = plots.pareto_chart(
            study.pareto, k, study.settings.objective, lower_is_better(metric)
        )
    run_tags = study.settings.to_tags()
    if study.settings.corr_threshold is not None or len(shape_table):  # they read the rows
        ref = reference(str(jobs.index[jobs["status"] == "FINISHED"][0]))
        if ref is not None:
            run_tags[tags.REFERENCE] = ref.describe()
    if len(study.positive_classes) == 1:
        run_tags[tags.POSITIVE_CLASS] = study.positive_classes[0]
    note = (
        summary_markdown(study) + pareto_paragraph(study) + shape_sentence(shape_table, shape_mean)
    )
    sweeps.log_study(parent_id, metrics, tables, figures, note, run_tags)
    copies = changed_run_stability(jobs, study)
    if len(copies) <= MAX_RUN_COPIES:
        sweeps.log_run_metric(tags.SETTING_STABILITY, copies)
    else:
        log.info("%d runs: the setting's stability is on the parent only", len(copies))
    return study


# A metric a run costs one write (3 ms on SQLite): 2,000 runs take 6 s; past that the runs
# table of the UI is no place to read a sweep, and the parent's table says it all.
MAX_RUN_COPIES = 2000


def changed_run_stability(jobs: pd.DataFrame, study: Study) -> dict[str, float]:
    """run_id -> its setting's Nogueira Phi, for the finished jobs that do not hold that value
    yet: each child shows its setting's stability beside its score in the UI's runs table."""
    phi = study.by_config.set_index(tags.CONFIG_KEY)["nogueira"]
    finished = jobs[jobs["status"] == "FINISHED"]
    wanted = finished[tags.CONFIG_KEY].map(phi).astype(float)
    held = finished.get(tags.SETTING_STABILITY, pd.Series(math.nan, index=finished.index))
    same = (wanted == held) | (wanted.isna() & held.isna())
    return wanted[~same].to_dict()


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """Every float to 3 significant digits; integers, text and NaN as they are."""

    def three(x: object) -> object:
        return float(f"{x:.3g}") if isinstance(x, float) and math.isfinite(x) else x

    return table.map(three)


def print_study(study: Study, parent_id: str) -> None:
    print(f"sweep run {parent_id} ({store.describe_uri()})")
    print(headline_sentence(study))
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
        print(warned.replace("`", ""))
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(settings_table(study).to_string(index=False))
    if study.pareto is not None:
        print(
            pareto.sentence(study.pareto, study.settings.objective, study.settings.min_stability)
            .replace("**", "")
            .replace("`", "")
        )


@cli.command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Console script `ebm-study-report`."""
    parser = cli.parser(
        PROG,
        "Recompute a sweep's top-k stability study from MLflow and log it on the sweep's "
        "parent run.",
    )
    cli.add_sweep_arguments(parser)
    parser.add_argument("--top-k", type=int, help="terms that count as on top (default: sweep's)")
    parser.add_argument(
        "--terms", help=f"{' or '.join(settings.TERMS)}: let pair terms compete or not"
    )
    parser.add_argument("--rbo-p", type=float, help="rank-biased overlap persistence in (0, 1)")
    parser.add_argument(
        "--metric",
        help="the test metric the study sums runs up by (default: the sweep's study.metric, "
        "else f1; r2 for a regression): average_precision for a rare positive class",
    )
    parser.add_argument("--no-log", action="store_true", help="print only; write nothing")
    args = parser.parse_args(argv)
    parent = cli.select_sweep(args, cli.use_store(args))
    parent_id, experiment_id = parent.info.run_id, parent.info.experiment_id
    if not args.no_log and sweeps.close_orphan_sweep(parent, by=PROG):
        print(f"sweep run {parent_id} was left RUNNING by a launch that is gone: closed KILLED")
    chosen = sweep_settings(parent).replace(
        CLI_NAMES, top_k=args.top_k, terms=args.terms, rbo_p=args.rbo_p, metric=args.metric
    )
    if args.no_log:
        study = compute(experiment_id, parent_id, chosen)
    else:
        study = publish(experiment_id, parent_id, chosen)
    print_study(study, parent_id)
    if not args.no_log:
        status = sweeps.clear_study_failure(parent_id)
        if status is not None:
            print(f"the study the sweep lacked is on it now; sweep run {parent_id}: {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
