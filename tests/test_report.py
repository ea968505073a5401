"""End to end: a sweep's parent run carries the study, and `ebm-study-report` reproduces it
from the store alone."""

import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from conftest import TINY, run_cli, store_overrides
from mlflow.tracking import MlflowClient

HEADLINE = [
    "stability_nogueira",
    "stability_nogueira_ci_low",
    "stability_nogueira_ci_high",
    "stability_jaccard",
    "stability_rbo",
    "stability_kendall_w",
]


def report(*args: str):
    exe = Path(sys.executable).with_name("ebm-study-report")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """3 split seeds x 2 learning rates, tiny fits, one of them failing (learning_rate=-1)."""
    tmp = tmp_path_factory.mktemp("sweep")
    result = run_cli(
        "-m",
        "split_seed=0,1,2",
        "model.learning_rate=0.01,0.05,-1",
        *TINY,
        *store_overrides(tmp),
        "tracking.log_model=false",
    )
    assert result.returncode == 1, result.stderr[-3000:]  # the -1 jobs fail, the rest finish
    mlflow.set_tracking_uri(f"sqlite:///{tmp}/mlflow.db")
    client = MlflowClient()
    (parent,) = client.search_runs(
        [client.get_experiment_by_name("ebm-study").experiment_id],
        filter_string="tags.`ebm_study.role` = 'sweep'",
    )
    return tmp, parent, result


def test_parent_run_carries_the_headline_with_its_interval(sweep):
    _, parent, _ = sweep
    metrics = parent.data.metrics
    assert set(HEADLINE) <= set(metrics)
    assert metrics["stability_n_runs"] == 6 and metrics["n_failed"] == 3
    low, phi, high = (metrics[f"stability_nogueira{s}"] for s in ("_ci_low", "", "_ci_high"))
    assert low <= phi <= high and -1 <= phi <= 1
    assert metrics["stability_jaccard"] > metrics["stability_jaccard_chance"]


def test_parent_run_carries_tables_pictures_and_summary(sweep):
    _, parent, _ = sweep
    client = MlflowClient()
    paths = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {
        "stability_by_config.json",
        "topk_frequency.json",
        "topk_frequency.png",
        "rank_heatmap.png",
        "stability_vs_f1.png",
    } <= paths
    by_config = client.load_table(
        parent.info.experiment_id, "stability_by_config.json", run_ids=[parent.info.run_id]
    )
    assert len(by_config) == 2 and (by_config["n_runs"] == 3).all()
    assert set(by_config["setting"]) == {"learning_rate=0.01", "learning_rate=0.05"}
    assert {"nogueira_ci_low", "rbo", "kendall_w", "mean_f1"} <= set(by_config.columns)
    note = parent.data.tags["mlflow.note.content"]
    assert "Top-5 stability over 6 runs" in note and "3 run(s) failed" in note


def test_the_sweep_prints_the_study_and_says_what_failed(sweep):
    _, _, result = sweep
    assert "Top-5 stability over 6 runs" in result.stdout
    assert "3 of 9 jobs failed" in result.stderr


def test_report_reproduces_the_numbers_from_the_store_alone(sweep):
    tmp, parent, _ = sweep
    before = parent.data.metrics
    out = report("--tracking-uri", f"sqlite:///{tmp}/mlflow.db")  # newest sweep by default
    assert out.returncode == 0, out.stderr
    assert f"sweep run {parent.info.run_id}" in out.stdout
    assert f"Phi = {before['stability_nogueira']:.2f}" in out.stdout
    assert "learning_rate=0.05" in out.stdout and "whole sweep" in out.stdout
    client = MlflowClient()
    after = client.get_run(parent.info.run_id).data.metrics
    for name in HEADLINE:
        assert after[name] == pytest.approx(before[name])
    # Re-logging replaces the tables rather than appending to them.
    by_config = client.load_table(
        parent.info.experiment_id, "stability_by_config.json", run_ids=[parent.info.run_id]
    )
    assert len(by_config) == 2


def test_report_with_other_settings_and_by_sweep_id(sweep):
    tmp, parent, _ = sweep
    out = report(
        "--tracking-uri",
        f"sqlite:///{tmp}/mlflow.db",
        "--sweep",
        parent.info.run_id,
        "--top-k",
        "3",
        "--no-log",
    )
    assert out.returncode == 0, out.stderr
    assert "Top-3 stability over 6 runs" in out.stdout
    tags = MlflowClient().get_run(parent.info.run_id).data.tags
    assert tags["study.top_k"] == "5"  # --no-log wrote nothing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--experiment", "nope"], "--experiment='nope' does not exist"),
        (["--sweep", "0123456789abcdef0123456789abcdef"], "is not a sweep run"),
        (["--top-k", "0"], "top_k=0 must be at least 1"),
    ],
)
def test_report_errors_are_one_line(sweep, args, message):
    tmp, _, _ = sweep
    out = report("--tracking-uri", f"sqlite:///{tmp}/mlflow.db", *args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
