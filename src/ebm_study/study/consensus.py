"""The consensus model: interpret's `merge_ebms` of one setting's runs that share a split seed
(several model seeds: more bags on the same data), scored on that split's test rows and logged
as its own run under the sweep's parent, for `ebm-study-promote --consensus`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from interpret.glassbox import merge_ebms

from ebm_study.errors import UserError
from ebm_study.fit import importance, metrics, pipeline
from ebm_study.tracking import models, runs, tags


@dataclass(frozen=True)
class Consensus:
    run_id: str  # the consensus run under the sweep's parent
    model_uri: str
    merged: list[str]  # the run ids merged
    scores: dict[str, float]
    top: list[str]  # its top-k terms


def members(jobs: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """The finished runs with a logged model of `run_id`'s setting and split seed."""
    chosen = jobs.loc[run_id]
    same = (
        (jobs["status"] == "FINISHED")
        & (jobs[tags.CONFIG_KEY] == chosen[tags.CONFIG_KEY])
        & (jobs["split_seed"].astype(str) == str(chosen["split_seed"]))
        & jobs["model_uri"].notna()
    )
    return jobs[same]


def well_formed(merged, sources: list):
    """The merge with the hyperparameters interpret 0.7.8's `merge_ebms` leaves unset
    (interpret #576: `repr`, `get_params` and `sklearn.base.clone` then raise), copied from
    the first source model as interpret's own fix does (callback: None), except what would
    misdescribe the merge: `outer_bags` is its bags (all of the sources'), `random_state` None
    (it has several). They only say how a model is fitted, so predictions do not change; a
    newer interpret that sets them keeps its own."""
    own = {"callback": None, "outer_bags": len(merged.bagged_scores_[0]), "random_state": None}
    for name, value in sources[0].get_params(deep=False).items():
        if not hasattr(merged, name):
            setattr(merged, name, own.get(name, value))
    return merged


def build(
    jobs: pd.DataFrame, run_id: str, setting: str, experiment_id: str, parent_id: str, k: int
) -> Consensus:
    """Merge the runs `members` finds, score the merge on their split's test rows, and log it
    (model, metrics, importance table and chart) as a run under the parent."""
    same = members(jobs, run_id)
    split_seed = jobs.loc[run_id, "split_seed"]
    if len(same) < 2:
        raise UserError(
            f"--consensus needs at least 2 finished runs with a logged model of setting "
            f"{setting} and split_seed={split_seed}; the sweep has {len(same)}: sweep several "
            "model seeds (model_seed=0,1,2,3)"
        )
    sources = [models.load_estimator(uri) for uri in same["model_uri"]]
    merged = well_formed(merge_ebms(sources), sources)
    config = runs.run_config(run_id)
    prepared = pipeline.prepare(config)
    split = prepared.split
    scores = metrics.evaluate(merged, split.X_test, split.y_test, prepared.positive, prepared.task)
    table = importance.table(merged, k)
    ids = list(same.index)
    name = f"consensus {setting} split_seed={split_seed}"
    run_tags = {
        tags.ROLE: tags.ROLE_CONSENSUS,
        tags.CONFIG_KEY: str(jobs.loc[run_id, tags.CONFIG_KEY]),
        tags.SETTING: setting,
        tags.MERGED_RUNS: ",".join(ids),
    }
    with runs.job_run(experiment_id, name, parent_id, run_tags) as consensus_id:
        runs.log_config_text(config)  # its data: how a prediction reads its input (predict)
        uri = models.log_model(merged, split.X_train)
        chart = importance.bar_chart(table, title=f"Term importance: {name}", top_k=k)
        runs.log_results(scores, table, chart, uri)
    return Consensus(consensus_id, uri, ids, scores, table["term"].head(k).tolist())
