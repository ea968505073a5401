"""`ebm-study-migrate` copies a store: runs with their params, metrics, parent links, logged
models, registered versions and the champion alias; a second migration copies nothing. Here
between two SQLite stores (test_team.py does it to a PostgreSQL-backed server)."""

import json
import re

import mlflow
from conftest import assert_copied
from mlflow.tracking import MlflowClient

from ebm_study.commands.migrate import main as migrate_main


def runs_by_source(client, experiment="ebm-study"):
    exp = client.get_experiment_by_name(experiment)
    return {r.data.tags.get("ebm_study.migrated_from", r.info.run_id): r
            for r in client.search_runs([exp.experiment_id], max_results=1000)}  # fmt: skip


def test_migrate_copies_runs_models_and_champion_once(shared_sweep, champion, tmp_path, capsys,
                                                      monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)  # a new SQLite store puts its artifacts under ./mlruns
    target = f"sqlite:///{tmp_path}/team.db"
    assert migrate_main(["--from", shared_sweep.uri, "--to", target]) == 0
    out = capsys.readouterr().out
    src = MlflowClient(tracking_uri=shared_sweep.uri, registry_uri=shared_sweep.uri)
    dst = MlflowClient(tracking_uri=target, registry_uri=target)
    before, after = runs_by_source(src), runs_by_source(dst)
    # Whatever other tests added to the shared store: every run and model of it, once.
    experiment = src.get_experiment_by_name("ebm-study").experiment_id
    n_models = len(src.search_logged_models([experiment], max_results=1000))
    assert f"copied {len(before)} runs, {n_models} models and " in out
    assert re.search(r"and \d+ registered versions of ebm-study", out)
    assert_copied(before, after)
    copied = dst.get_model_version_by_alias("ebm-study", "champion")
    assert f"alias ebm-study@champion -> version {copied.version}" in out
    assert copied.run_id == after[champion].info.run_id
    # The copied model records the target's version, as the UI reads it.
    model_id = after[champion].outputs.model_outputs[0].model_id
    assert json.loads(dst.get_logged_model(model_id).tags["mlflow.modelVersions"]) == [
        {"name": "ebm-study", "version": int(copied.version)}
    ]
    mlflow.set_tracking_uri(target)
    model = mlflow.sklearn.load_model("models:/ebm-study@champion")
    assert type(model).__name__ == "ExplainableBoostingClassifier"

    assert migrate_main(["--from", shared_sweep.uri, "--to", target]) == 0
    again = capsys.readouterr().out
    assert "copied 0 runs, 0 models and 0 registered versions" in again
    assert f"{len(before)} runs were already there" in again


def test_migrate_errors_are_one_line_with_exit_2(tmp_path, capsys):
    nothing = f"sqlite:///{tmp_path}/none.db"
    target = f"sqlite:///{tmp_path}/team.db"
    cases = [
        (["--from", nothing, "--to", target], f"--from={nothing} does not exist"),
        (["--from", nothing, "--to", nothing], f"--to={nothing} is the store runs are copied"),
        (["--from", nothing], "--to is missing"),
    ]
    for args, message in cases:
        assert migrate_main(args) == 2
        err = capsys.readouterr().err
        assert err.startswith("ebm-study-migrate: error: ") and message in err, err
        assert len(err.strip().splitlines()) == 1
