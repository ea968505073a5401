"""`ebm-study-promote`: register the best run of a sweep and point `@champion` at it."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import pandas as pd

from ebm_study import console
from ebm_study.commands import cli, parsers
from ebm_study.errors import UserError
from ebm_study.fit import pipeline
from ebm_study.measures import pareto
from ebm_study.metric_names import LOWER_IS_BETTER
from ebm_study.metric_names import lower_is_better as metric_lower_is_better
from ebm_study.rounding import interval
from ebm_study.study import publish
from ebm_study.study.compute import Study
from ebm_study.tracking import artifacts, models, runs, sweeps, tags

PROG = "ebm-study-promote"
TIE_BREAK = "higher setting stability, then the earlier run"


@dataclass(frozen=True)
class Choice:
    """The run chosen for promotion and why."""

    run_id: str
    run_name: str
    config_key: str
    model_uri: str | None  # None: the run kept no model (tracking.log_model=false)
    metric: str
    value: float
    metrics: dict[str, float]
    stability: float  # the setting's Nogueira Phi (nan if undefined)
    stability_ci: tuple[float, float]
    setting: str
    n_candidates: int
    n_finished: int


def choose(
    jobs: pd.DataFrame,
    by_config: pd.DataFrame,
    metric: str = "f1",
    lower_is_better: bool = False,
    min_stability: float | None = None,
) -> Choice:
    """The best finished run by `metric`, among settings whose top-k
    stability is at least `min_stability`; ties go to the more stable setting, then the
    earlier run. Pure: tables in, a choice out."""
    finished = jobs[jobs["status"] == "FINISHED"] if len(jobs) else jobs
    if finished.empty:
        raise UserError("no FINISHED run in this sweep to promote")
    logged = sorted(c for c in finished.columns if finished[c].dtype.kind == "f")
    if metric not in finished.columns or finished[metric].isna().all():
        raise UserError(
            f"--metric={metric!r} is not logged by these runs; logged: {', '.join(logged)}"
        )
    candidates = finished[finished[metric].notna()]
    stability = by_config.set_index(tags.CONFIG_KEY)
    candidates = candidates.assign(
        _phi=candidates[tags.CONFIG_KEY].map(stability["nogueira"]).astype(float)
    )
    if min_stability is not None:
        stable = candidates[candidates["_phi"] >= min_stability]
        if stable.empty:
            best = candidates["_phi"].max()
            raise UserError(
                f"--min-stability={min_stability}: no setting reaches it; the most stable "
                f"setting has Phi={best:.3f}"
                if not math.isnan(best)
                else f"--min-stability={min_stability}: no setting has a defined stability"
            )
        candidates = stable
    ranked = candidates.assign(
        _score=-candidates[metric] if not lower_is_better else candidates[metric]
    )
    ranked = ranked.sort_values(
        ["_score", "_phi", "start_time"], ascending=[True, False, True], na_position="last"
    )
    best = ranked.iloc[0]
    key = best[tags.CONFIG_KEY]
    row = stability.loc[key] if key in stability.index else None
    return Choice(
        run_id=str(best.name),
        run_name=str(best["run_name"]),
        config_key=str(key),
        model_uri=None if pd.isna(best["model_uri"]) else str(best["model_uri"]),
        metric=metric,
        value=float(best[metric]),
        metrics={m: float(best[m]) for m in logged if not pd.isna(best[m])},
        stability=float(best["_phi"]),
        stability_ci=(
            (float(row["nogueira_ci_low"]), float(row["nogueira_ci_high"]))
            if row is not None
            else (math.nan, math.nan)
        ),
        setting=str(row["setting"]) if row is not None else str(key),
        n_candidates=len(candidates),
        n_finished=len(finished),
    )


def lower_is_better_for(metric: str, given: bool | None = None) -> bool:
    """Whether a smaller `metric` is better: as `given`, else true for the losses we log
    (rmse, mae, log_loss)."""
    return metric in LOWER_IS_BETTER if given is None else given


def promote(
    parent_id: str,
    experiment_id: str,
    name: str,
    metric: str | None = None,
    lower_is_better: bool | None = None,
    min_stability: float | None = None,
    consensus: bool = False,
    pareto_front: bool = False,
) -> tuple[Choice, str, bool, list[str]]:
    """Register the chosen run's model as a version of `name` and point @champion at it; with
    `consensus`, the merge of the chosen setting's runs that share its split seed instead.

    `metric` defaults to the sweep's score (f1; r2 for a regression), its direction to
    `lower_is_better_for`. Returns the choice, the version, whether it was newly created, and
    the run's top-k terms. Promoting the same run again reuses its version.
    """
    jobs = sweeps.jobs_frame(experiment_id, parent_id)
    study = publish.compute(experiment_id, parent_id, jobs=jobs, read_models=False)
    if pareto_front:
        metric = metric or study.settings.metric or study.score
        lower_is_better = lower_is_better_for(metric, lower_is_better)
        finished = jobs[jobs["status"] == "FINISHED"]
        key = recommended_setting(study, finished, metric, lower_is_better, min_stability)
        choice = choose(
            jobs[jobs[tags.CONFIG_KEY] == key], study.by_config, metric, lower_is_better
        )
    else:
        metric = metric or study.score
        lower_is_better = lower_is_better_for(metric, lower_is_better)
        choice = choose(jobs, study.by_config, metric, lower_is_better, min_stability)
    k = study.settings.top_k
    terms = artifacts.load_importances({choice.run_id: jobs.loc[choice.run_id, "artifact_uri"]})
    top = terms.sort_values("rank")["term"].head(k).tolist()
    description = describe(choice, parent_id, top, lower_is_better, min_stability)
    how = f"{'min' if lower_is_better else 'max'} {metric}"
    if pareto_front:
        description = (
            f"The recommended setting on the sweep's Pareto front of {metric} and top-k "
            f"stability, then its best run. {description}"
        )
        how = f"pareto front, then {how}"
    version_tags = {
        tags.VERSION_RUN: choice.run_id,
        tags.VERSION_SWEEP: parent_id,
        tags.VERSION_CONFIG_KEY: choice.config_key,
        tags.VERSION_SETTING: choice.setting,
        tags.VERSION_PROMOTED_BY: how,
        tags.VERSION_TOP_TERMS.format(k=k): ", ".join(top),
        tags.VERSION_STABILITY: f"{choice.stability:.4f}",
        tags.VERSION_STABILITY_CI: f"{choice.stability_ci[0]:.4f}, {choice.stability_ci[1]:.4f}",
        **{f"{tags.VERSION_METRIC_PREFIX}{m}": f"{v:.6g}" for m, v in choice.metrics.items()},
    }
    if consensus:
        merged = build_consensus(jobs, choice, experiment_id, parent_id, k)
        top = merged.top
        version_tags.update(
            {
                tags.VERSION_RUN: merged.run_id,
                tags.VERSION_CONSENSUS: "true",
                tags.MERGED_RUNS: ",".join(merged.merged),
                tags.VERSION_TOP_TERMS.format(k=k): ", ".join(top),
                **{
                    f"{tags.VERSION_METRIC_PREFIX}{m}": f"{v:.6g}" for m, v in merged.scores.items()
                },
            }
        )
        description = (
            f"Consensus of {len(merged.merged)} runs of setting `{choice.setting}` sharing the "
            f"split seed of run `{choice.run_name}` (interpret's merge_ebms of their bags), "
            f"sweep {parent_id}. Top-{k} terms: {', '.join(top)}. Test metrics: "
            + ", ".join(f"{m} {v:.4f}" for m, v in merged.scores.items())
            + "."
        )
        version = models.register_version(name, merged.model_uri, description, version_tags)
        models.set_alias(name, tags.CHAMPION, version)
        return choice, version, True, top
    version = models.registered_version_for_run(name, choice.run_id)
    created = version is None
    if created:
        model_uri = choice.model_uri or refit_model(choice)
        version = models.register_version(name, model_uri, description, version_tags)
    else:
        models.describe_version(name, version, description, version_tags)
    models.set_alias(name, tags.CHAMPION, version)
    return choice, version, created, top


def recommended_setting(
    study: Study,
    finished: pd.DataFrame,
    metric: str,
    lower_is_better: bool,
    min_stability: float | None,
) -> str:
    """The config_key of the setting recommended on the sweep's Pareto front of `metric` and
    stability (pareto.recommend): the most stable of those whose `metric` cannot be told apart
    from the best, at least `min_stability` stable (default: the sweep's study.min_stability);
    if none of those is, the most accurate on the front that is."""
    chosen = study.settings
    floor = min_stability if min_stability is not None else chosen.min_stability
    front = study.pareto  # the study's own front, unless asked about another metric
    if front is None:
        raise UserError("--pareto: this sweep has one setting; there is no front to choose from")
    if front["metric"].iloc[0] != metric or lower_is_better != metric_lower_is_better(metric):
        front = pareto.table(
            study.by_config,
            finished,
            metric,
            chosen.objective,
            lower_is_better,
            stability_difference=study.compare,
        )
    best = pareto.recommend(front, floor, lower_is_better)
    if best is None:
        on = front[front["on_front"]]
        most = on["stability"].max() if len(on) else math.nan
        raise UserError(
            f"--pareto: no setting on the front reaches stability {floor} (the most stable on "
            f"it: {most:.3f}); lower --min-stability or study.min_stability"
        )
    return str(best[tags.CONFIG_KEY])


def build_consensus(jobs, choice: Choice, experiment_id: str, parent_id: str, k: int):
    """The consensus run of the chosen setting and split seed (consensus.build)."""
    from ebm_study.study import consensus  # interpret's merge only when asked for

    return consensus.build(jobs, choice.run_id, choice.setting, experiment_id, parent_id, k)


def refit_model(choice: Choice) -> str:
    """Fit the chosen run again from its logged config and log the model into that run.

    Sweeps run with tracking.log_model=false keep no models; the champion still needs one. Both
    seeds are in the config and the pipeline is train's own, so the refit is the same model:
    its test metric must match.
    """
    cfg = runs.run_config(choice.run_id)
    prepared = pipeline.prepare(cfg)
    ebm, scores, _, _ = pipeline.fit_and_score(cfg, prepared)
    if choice.metric in scores and not math.isclose(
        scores[choice.metric], choice.value, rel_tol=1e-9, abs_tol=1e-12
    ):
        raise UserError(
            f"refitting run {choice.run_id} gave {choice.metric}={scores[choice.metric]:.6f}, "
            f"not its logged {choice.value:.6f}; the data or library versions changed"
        )
    return models.log_model_to_run(choice.run_id, ebm, prepared.split.X_train)


def describe(
    choice: Choice,
    parent_id: str,
    top: list[str],
    lower_is_better: bool,
    min_stability: float | None,
) -> str:
    """The model version's description: where it came from and why it was chosen."""
    floor = f" among settings with top-k stability >= {min_stability}" if min_stability else ""
    best = "lowest" if lower_is_better else "highest"
    scores = ", ".join(f"{m} {v:.4f}" for m, v in choice.metrics.items())
    phi = interval(choice.stability, *choice.stability_ci)
    return (
        f"Run `{choice.run_name}` ({choice.run_id}) of sweep {parent_id}: the {best} "
        f"{choice.metric} ({choice.value:.4f}) of {choice.n_candidates} candidate runs{floor} "
        f"(ties: {TIE_BREAK}).\n\n"
        f"Setting `{choice.setting}`: top-{len(top)} stability Phi = {phi} (95% CI).\n\n"
        f"Top-{len(top)} terms: {', '.join(top)}.\n\nTest metrics: {scores}."
    )


@console.command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Console script `ebm-study-promote`."""
    args = parsers.promote().parse_args(argv)
    cfg = cli.use_store(args)
    parent = cli.select_sweep(args, cfg)
    name = args.name or str(cfg.tracking.registered_model)
    choice, version, created, top = promote(
        parent.info.run_id,
        parent.info.experiment_id,
        name,
        args.metric,
        args.lower_is_better,
        args.min_stability,
        args.consensus,
        args.pareto,
    )
    best = "lowest" if lower_is_better_for(choice.metric, args.lower_is_better) else "highest"
    floor = f", top-k stability >= {args.min_stability}" if args.min_stability else ""
    if args.pareto:
        floor = f", of the setting recommended on the Pareto front{floor}"
    print(
        f"chose run {choice.run_name} ({choice.run_id}): {best} {choice.metric} = "
        f"{choice.value:.4f} of {choice.n_candidates} candidates ({choice.n_finished} finished"
        f"{floor}; ties: {TIE_BREAK})"
    )
    print(
        f"setting {choice.setting}: stability Phi = "
        f"{interval(choice.stability, *choice.stability_ci)} (95% CI); top terms: {', '.join(top)}"
    )
    if args.consensus:
        print(
            f"consensus of that setting's runs on its split seed; its top terms: {', '.join(top)}"
        )
    print(f"{'registered' if created else 'already registered as'} {name} version {version}")
    print(f"models:/{name}@{tags.CHAMPION}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
