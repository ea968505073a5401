"""Promote the best run of a sweep to @champion: the choice (pure), the registered version and
its description, a second promotion, and a sweep that kept no models (the refit)."""

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
from conftest import run_cli, store_uri
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_breast_cancer

from ebm_study import settings
from ebm_study.commands.job import train
from ebm_study.commands.promote import choose
from ebm_study.commands.promote import main as promote_main
from ebm_study.config import to_yaml
from ebm_study.errors import UserError
from ebm_study.tracking import store, sweeps

# ---------------------------------------------------------------------------------------------
# choose(): pure


def jobs_table():
    return pd.DataFrame(
        {
            "run_id": ["a", "b", "c", "d", "e"],
            "run_name": ["a", "b", "c", "d", "e"],
            "status": ["FINISHED", "FINISHED", "FINISHED", "FINISHED", "FAILED"],
            "start_time": [1, 2, 3, 4, 5],
            "model_uri": ["models:/m-a", "models:/m-b", "models:/m-c", "models:/m-d", None],
            "config_key": ["k1", "k1", "k2", "k2", "k2"],
            "f1": [0.95, 0.97, 0.97, 0.90, np.nan],
            "log_loss": [0.20, 0.10, 0.15, 0.30, np.nan],
        }
    ).set_index("run_id")


STABILITY = pd.DataFrame(
    {
        "config_key": ["k1", "k2"],
        "setting": ["lr=0.01", "lr=0.05"],
        "nogueira": [0.5, 0.8],
        "nogueira_ci_low": [0.4, 0.7],
        "nogueira_ci_high": [0.6, 0.9],
    }
)


def test_best_metric_wins_and_ties_go_to_the_more_stable_setting():
    choice = choose(jobs_table(), STABILITY, "f1")
    assert choice.run_id == "c"  # b and c tie on f1; c's setting is more stable
    assert choice.stability == 0.8 and choice.setting == "lr=0.05"
    assert choice.n_candidates == 4 and choice.n_finished == 4


def test_lower_is_better_for_losses():
    assert choose(jobs_table(), STABILITY, "log_loss", lower_is_better=True).run_id == "b"


def test_a_stability_floor_keeps_only_stable_settings():
    assert choose(jobs_table(), STABILITY, "log_loss", True, min_stability=0.7).run_id == "c"
    with pytest.raises(
        UserError, match=r"--min-stability=0.95: .* most stable setting has Phi=0.800"
    ):
        choose(jobs_table(), STABILITY, "f1", min_stability=0.95)


def test_an_unknown_metric_names_the_logged_ones():
    with pytest.raises(UserError, match=r"--metric='auc' is not logged .* logged: f1, log_loss"):
        choose(jobs_table(), STABILITY, "auc")


def test_no_finished_run_is_refused():
    jobs = jobs_table().assign(status="FAILED")
    with pytest.raises(UserError, match="no FINISHED run"):
        choose(jobs, STABILITY)


def test_ties_on_everything_go_to_the_earlier_run():
    jobs = jobs_table().assign(f1=0.9, config_key="k1")
    assert choose(jobs, STABILITY).run_id == "a"


# ---------------------------------------------------------------------------------------------
# End to end on the session's shared sweep


def versions(uri, name="ebm-study"):
    return MlflowClient(registry_uri=uri).search_model_versions(f"name='{name}'")


def test_promote_points_champion_at_the_best_run_and_describes_it(shared_sweep):
    # The real command: its output and exit code.
    out = run_cli("--tracking-uri", shared_sweep.uri, program="ebm-study-promote")
    assert out.returncode == 0, out.stderr
    assert "models:/ebm-study@champion" in out.stdout and "ties:" in out.stdout
    client = MlflowClient(tracking_uri=shared_sweep.uri, registry_uri=shared_sweep.uri)
    version = client.get_model_version_by_alias("ebm-study", "champion")
    best_f1 = max(r.data.metrics["f1"] for r in shared_sweep.finished)
    chosen = next(r for r in shared_sweep.finished if r.info.run_id == version.run_id)
    assert chosen.data.metrics["f1"] == best_f1  # ties are choose()'s business, tested above
    assert version.tags["metric.f1"] == f"{best_f1:.6g}"
    assert version.tags["sweep_run_id"] == shared_sweep.parent.info.run_id
    assert version.tags["top5_terms"].count(",") == 4
    assert "stability" in version.description and "Top-5 terms" in version.description
    # What the UI's logged-model page reads to show the model as registered.
    logged = client.get_logged_model(chosen.outputs.model_outputs[0].model_id)
    assert json.loads(logged.tags["mlflow.modelVersions"]) == [
        {"name": "ebm-study", "version": int(version.version)}
    ]


def test_promoting_the_same_run_again_makes_no_second_version(shared_sweep, champion, capsys):
    assert promote_main(["--tracking-uri", shared_sweep.uri]) == 0
    assert "already registered as ebm-study version" in capsys.readouterr().out
    assert len(versions(shared_sweep.uri)) == 1


def test_promote_by_a_loss_under_another_name(shared_sweep):
    args = ["--metric", "log_loss", "--lower-is-better", "--name", "by-loss"]
    assert promote_main(["--tracking-uri", shared_sweep.uri, *args]) == 0
    (version,) = versions(shared_sweep.uri, "by-loss")
    chosen = next(r for r in shared_sweep.finished if r.info.run_id == version.run_id)
    assert chosen.data.metrics["log_loss"] == min(
        r.data.metrics["log_loss"] for r in shared_sweep.finished
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "nope"], "--metric='nope' is not logged"),
        (["--min-stability", "1.01"], "--min-stability=1.01: no setting reaches it"),
        (["--min-stability", "high"], "argument --min-stability: invalid float value"),
        (["--experiment", "nope"], "--experiment='nope' does not exist"),
    ],
)
def test_promote_errors_are_one_line_with_exit_2(shared_sweep, capsys, args, message):
    assert promote_main(["--tracking-uri", shared_sweep.uri, *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ebm-study-promote: error: ")
    assert message in lines[0]


# ---------------------------------------------------------------------------------------------
# A sweep that kept no models: the champion is refitted from its run's logged config


@pytest.fixture
def sweep_without_models(make_cfg, tmp_path):
    """Two runs under a parent, made in-process as a sweep's jobs are, with no models."""
    cfg = make_cfg("tracking.log_model=false")
    experiment_id = store.connect(cfg.tracking)
    parent = sweeps.start_sweep(
        experiment_id,
        str(tmp_path / "sweep"),
        ["split_seed"],
        ["split_seed=0,1"],
        to_yaml(cfg),
        settings.from_config(cfg).to_tags(),
        "key",
    )
    for seed in (0, 1):
        job = make_cfg("tracking.log_model=false", f"split_seed={seed}")
        train(job, [f"split_seed={seed}"], parent, ["split_seed"])
    sweeps.end_sweep(parent, "FINISHED", {"n_runs": 2})
    return store_uri(tmp_path)


def test_a_sweep_without_models_still_gets_a_champion_by_refitting(sweep_without_models, capsys):
    uri = sweep_without_models
    assert promote_main(["--tracking-uri", uri]) == 0
    assert "registered ebm-study version 1" in capsys.readouterr().out
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_model_version_by_alias("ebm-study", "champion")
    run = client.get_run(version.run_id)
    assert run.info.status == "FINISHED"  # logging the model into it did not reopen it for good
    mlflow.set_tracking_uri(uri)
    ebm = mlflow.sklearn.load_model("models:/ebm-study@champion")
    X = load_breast_cancer(as_frame=True).data
    assert np.array_equal(
        ebm.predict(X), mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model").predict(X)
    )
    # A second promotion finds the version made by the first, with no second refit.
    assert promote_main(["--tracking-uri", uri]) == 0
    assert "already registered" in capsys.readouterr().out
    assert len(versions(uri)) == 1


# ---------------------------------------------------------------------------------------------
# --consensus: the merge of a setting's runs on one split


def test_consensus_registers_a_merged_model_that_reloads_and_predicts(shared_sweep, capsys):
    uri = shared_sweep.uri
    assert promote_main(["--tracking-uri", uri, "--consensus", "--name", "consensus"]) == 0
    assert "consensus of that setting's runs" in capsys.readouterr().out
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_model_version_by_alias("consensus", "champion")
    assert version.tags["consensus"] == "true"
    merged = version.tags["ebm_study.merged_runs"].split(",")
    jobs = {j.info.run_id: j for j in shared_sweep.finished}
    # One setting on one split: its two model seeds.
    assert len(merged) == 2 and len({jobs[r].data.params["split_seed"] for r in merged}) == 1
    assert len({jobs[r].data.tags["config_key"] for r in merged}) == 1
    assert {jobs[r].data.params["model_seed"] for r in merged} == {"0", "1"}
    run = client.get_run(version.run_id)  # the consensus run, under the sweep's parent
    assert run.data.tags["ebm_study.role"] == "consensus"
    assert run.data.tags["mlflow.parentRunId"] == version.tags["sweep_run_id"]
    assert {"f1", "accuracy"} <= set(run.data.metrics)
    # It is not one of the sweep's jobs: the study still counts 18.
    mlflow.set_tracking_uri(uri)
    experiment = run.info.experiment_id
    assert len(sweeps.jobs_frame(experiment, version.tags["sweep_run_id"])) == 18
    model = mlflow.sklearn.load_model("models:/consensus@champion")
    assert len(model.bagged_scores_[0]) == 4  # 2 runs x 2 bags
    # A well-formed scikit-learn estimator (interpret 0.7.8's merge leaves it without its
    # hyperparameters, #576): it prints, reports its parameters and clones.
    from sklearn.base import clone

    assert repr(model).startswith("ExplainableBoostingClassifier(")
    params = model.get_params()
    assert params["outer_bags"] == 4 and params["max_rounds"] == 300  # the merge's 4 bags
    assert params["callback"] is None and params["random_state"] is None
    assert clone(model).get_params() == params
    # It predicts what interpret's own merge of the two runs' models predicts, and scores
    # what its own predictions on the split's test rows score.
    from interpret.glassbox import merge_ebms

    members = [mlflow.sklearn.load_model(f"runs:/{r}/model") for r in merged]
    X = load_breast_cancer(as_frame=True).data
    assert np.array_equal(model.predict_proba(X), merge_ebms(members).predict_proba(X))
    assert not np.array_equal(model.predict_proba(X), members[0].predict_proba(X))


def test_consensus_needs_several_model_seeds_on_one_split(sweep_without_models, capsys):
    """Runs without models to merge: one line, exit 2, nothing registered or logged."""
    uri = sweep_without_models
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name("ebm-study").experiment_id
    before = len(client.search_runs([experiment]))
    assert promote_main(["--tracking-uri", uri, "--consensus"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ebm-study-promote: error: --consensus needs at ")
    assert "least 2 finished runs with a logged model" in err[0]
    assert len(client.search_runs([experiment])) == before
    assert client.search_registered_models() == []
