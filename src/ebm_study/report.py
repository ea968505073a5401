"""The stability study of a sweep, computed from what MLflow holds and logged on its parent run.

Runs at the end of every sweep (the sweep callback calls `publish`) and on its own as
`ebm-study-report`, so it works after a failed job, for runs made by any launcher, on old stores.
"""

from __future__ import annotations

import argparse
import sys

import matplotlib.pyplot as plt
import pandas as pd

from ebm_study import plots, tracking
from ebm_study.config import compose_default
from ebm_study.errors import UserError
from ebm_study.study import (
    Settings,
    Study,
    headline_sentence,
    run_study,
    settings_table,
    summary_markdown,
)

TAG_TOP_K, TAG_TERMS, TAG_RBO_P = "study.top_k", "study.terms", "study.rbo_p"


def settings_tags(settings: Settings) -> dict[str, str]:
    """How the study reads the runs, kept on the parent run so a later report can reuse it."""
    return {
        TAG_TOP_K: str(settings.top_k),
        TAG_TERMS: settings.terms,
        TAG_RBO_P: str(settings.rbo_p),
    }


def settings_from_tags(tags: dict[str, str], **overrides) -> Settings:
    """The sweep's own study settings, with any of them overridden (None keeps the sweep's)."""
    stored = {
        "top_k": int(tags.get(TAG_TOP_K, 5)),
        "terms": tags.get(TAG_TERMS, "all"),
        "rbo_p": float(tags.get(TAG_RBO_P, 0.8)),
    }
    stored.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**stored)


def compute(
    experiment_id: str,
    parent_id: str,
    settings: Settings | None = None,
    jobs: pd.DataFrame | None = None,
) -> Study:
    """The study of the sweep's finished jobs, from the store alone (`jobs`: the sweep's
    jobs_frame, when the caller already read it)."""
    parent = tracking.get_run(parent_id)
    if parent is None:
        raise UserError(f"--sweep={parent_id} is not a run in {tracking.describe_uri()}")
    settings = settings or settings_from_tags(parent.data.tags)
    swept = [k for k in parent.data.tags.get(tracking.SWEPT, "").split(",") if k]
    if jobs is None:
        jobs = tracking.jobs_frame(experiment_id, parent_id)
    if jobs.empty:
        raise UserError(f"sweep run {parent_id} has no job runs to study")
    finished = jobs[jobs["status"] == "FINISHED"]
    if finished.empty:
        raise UserError(f"sweep run {parent_id} has no FINISHED job runs ({len(jobs)} others)")
    importances = tracking.load_importances(finished["artifact_uri"].to_dict())
    return run_study(finished, importances, settings, swept, n_failed=len(jobs) - len(finished))


def publish(
    experiment_id: str,
    parent_id: str,
    settings: Settings | None = None,
    jobs: pd.DataFrame | None = None,
) -> Study:
    """Compute the study and log it on the parent run: metrics, tables, pictures, summary."""
    study = compute(experiment_id, parent_id, settings, jobs)
    k = study.settings.top_k
    metrics = {
        name if name == "mean_f1" else f"stability_{name}": value
        for name, value in study.headline.items()
    }
    tables = {
        "stability_by_config.json": study.by_config,
        "topk_frequency.json": study.topk_frequency,
    }
    figures = {
        "topk_frequency.png": plots.topk_frequency_chart(study.topk_frequency, k, study.n_runs),
        "rank_heatmap.png": plots.rank_heatmap(
            study.ranks, k, [study.run_names.get(r, r) for r in study.ranks.index]
        ),
        "stability_vs_f1.png": plots.stability_vs_f1(study.by_config, k),
    }
    try:
        tracking.log_study(
            parent_id,
            metrics,
            tables,
            figures,
            summary_markdown(study),
            settings_tags(study.settings),
        )
    finally:
        for figure in figures.values():
            plt.close(figure)
    return study


def print_study(study: Study, parent_id: str) -> None:
    print(f"sweep run {parent_id} ({tracking.describe_uri()})")
    print(headline_sentence(study))
    if study.n_failed:
        print(f"{study.n_failed} job run(s) did not finish and are left out.")
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(settings_table(study).to_string(index=False))


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """--sweep, --experiment and --tracking-uri, shared by the commands that read a sweep."""
    parser.add_argument("--sweep", help="the sweep's parent run id (default: the newest sweep)")
    parser.add_argument("--experiment", help="experiment name (default: from the config)")
    parser.add_argument(
        "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI or mlruns/mlflow.db)"
    )


def find_sweep_run(sweep: str | None, experiment: str | None, uri: str | None):
    """Connect to the store the config names (or `uri`) and return the sweep's parent run."""
    tracking_cfg = compose_default().tracking
    tracking.use(uri or str(tracking_cfg.uri))
    name = experiment or str(tracking_cfg.experiment)
    experiment_id = tracking.experiment_id_of(name)
    if experiment_id is None:
        raise UserError(f"--experiment={name!r} does not exist in {tracking.describe_uri()}")
    parent_id = sweep or tracking.newest_sweep(experiment_id)
    if parent_id is None:
        raise UserError(f"experiment {name!r} has no sweep yet; run `ebm-study -m ...` first")
    parent = tracking.get_run(parent_id)
    if parent is None or parent.data.tags.get(tracking.ROLE) != "sweep":
        raise UserError(f"--sweep={parent_id} is not a sweep run in {tracking.describe_uri()}")
    return parent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ebm-study-report",
        description="Recompute a sweep's top-k stability study from MLflow and log it on the "
        "sweep's parent run.",
    )
    add_sweep_arguments(parser)
    parser.add_argument("--top-k", type=int, help="terms that count as on top (default: sweep's)")
    parser.add_argument("--terms", choices=("all", "mains"), help="let pair terms compete or not")
    parser.add_argument("--rbo-p", type=float, help="rank-biased overlap persistence in (0, 1)")
    parser.add_argument("--no-log", action="store_true", help="print only; write nothing")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Console script `ebm-study-report`."""
    args = _parser().parse_args(argv)
    try:
        with tracking.server_refusals():
            parent = find_sweep_run(args.sweep, args.experiment, args.tracking_uri)
            parent_id = parent.info.run_id
            try:
                settings = settings_from_tags(
                    parent.data.tags, top_k=args.top_k, terms=args.terms, rbo_p=args.rbo_p
                )
            except ValueError as err:
                raise UserError(str(err)) from err
            if args.no_log:
                study = compute(parent.info.experiment_id, parent_id, settings)
            else:
                study = publish(parent.info.experiment_id, parent_id, settings)
    except UserError as err:
        print(f"ebm-study-report: error: {err}", file=sys.stderr)
        return 2
    print_study(study, parent_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
