"""Tables as users bring them, through the real commands: a 3-class target with text features,
missing values, an ID and dates in a Parquet file; a rare positive class whose text category
ranks first; a study that fails. Each sweep runs with models logged and several bags, so the
study's every path (shapes, near-twins, within-run bags, consensus) meets the data."""

import re

import mlflow
import numpy as np
import pandas as pd
import pytest
from conftest import (
    SMALL,
    all_runs,
    artifact_table,
    patients,
    run_cli,
    store_overrides,
    store_uri,
    sweep_of,
)
from mlflow.tracking import MlflowClient

from ebm_study.commands.predict import main as predict_main
from ebm_study.commands.promote import main as promote_main
from ebm_study.commands.report import main as report_main


def churn(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """About 5% churned; the `plan` (text) decides most of it."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    x = rng.normal(size=(n, 4))
    logit = -4.3 + 2.2 * (plan == "basic") + 0.5 * x[:, 0]
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(x, columns=["tenure", "calls", "spend", "age"])
    return frame.assign(plan=plan, churned=churned)


def test_three_classes_with_text_missing_values_ids_and_dates_sweep_to_a_study(three_classes):
    folder, _, result, parent, jobs = three_classes
    assert result.returncode == 0, result.stderr[-3000:]
    assert parent.info.status == "FINISHED" and len(jobs) == 4
    assert all(j.info.status == "FINISHED" for j in jobs)
    metrics = parent.data.metrics
    assert 0 <= metrics["stability_nogueira"] <= 1 or np.isnan(metrics["stability_nogueira"])
    assert {"stability_within_run", "shape_agreement_top_k", "mean_f1"} <= set(metrics)
    # The within-run measure over 2 bags of 3 classes, on every run.
    assert all(np.isfinite(j.data.metrics["stability_within_run"]) for j in jobs)
    assert all(j.data.metrics["average_precision"] > 0 for j in jobs)
    # The text category ranks first and its shape is drawn over its categories.
    client = MlflowClient(tracking_uri=store_uri(folder))
    frequency = artifact_table(parent, "topk_frequency.json")
    assert frequency.iloc[0]["term"] == "colour" and frequency.iloc[0]["topk_frequency"] == 1
    shapes = artifact_table(parent, "shape_stability.json")
    assert "colour" in set(shapes["term"])
    pictures = {a.path for a in client.list_artifacts(parent.info.run_id, "shapes")}
    assert "shapes/colour.png" in pictures
    # The ID is gone, the dates are decimal years, the rows all there.
    params = jobs[0].data.params
    assert params["data.drop"] == "['id']" and params["data.dates"] == "['visit']"
    terms = set(artifact_table(jobs[0], "importance.json")["term"])
    assert terms == {"visit", "colour", "a", "b", "c"}
    assert "a sample" not in parent.data.tags["ebm_study.reference_rows"]  # 240 rows: all
    # The per-row study on 3 classes: text labels predicted, reasons about the predicted class
    # (`colour` decides `low`), a churn share.
    reasons = artifact_table(parent, "reasons.json")
    assert len(reasons) == 300 and set(reasons["prediction"]) <= {"low", "mid", "high"}
    assert set(reasons.loc[reasons["prediction"] == "low", "reason_1"]) >= {"colour"}
    assert 0 <= metrics["prediction_churn"] <= 1 and 0 <= metrics["reason_agreement"] <= 1
    assert "reason_stability" in metrics and "reason_stability_ci_low" not in metrics  # 2 splits
    assert "% (no interval)" in parent.data.tags["mlflow.note.content"]
    assert "(no interval)%" not in parent.data.tags["mlflow.note.content"]


def test_a_sweep_of_seeds_names_its_setting_in_words(three_classes):
    _, _, result, parent, jobs = three_classes
    # What its command line fixed: the data and seeds are not a setting, n_jobs changes speed.
    assert {j.data.tags["setting"] for j in jobs} == {"outer_bags=2,max_rounds=300"}
    assert "outer_bags=2,max_rounds=300" in result.stdout
    assert not re.search(r"^\s*[0-9a-f]{12}\s", result.stdout, re.M)  # no bare hash


def test_interprets_warnings_are_said_once_a_sweep(three_classes):
    _, _, result, _, jobs = three_classes
    output = result.stdout + result.stderr
    assert output.count("Missing values detected") == 1
    assert "4 of 4 runs: UserWarning: Missing values detected." in output
    assert "EBM lib loading" not in output and "Loading EBM library" not in output
    assert all("Missing values" in j.data.tags["ebm_study.warnings"] for j in jobs)


def test_report_promote_consensus_and_predict_on_three_classes(three_classes, tmp_path, capsys):
    folder, path, _, parent, _ = three_classes
    uri = store_uri(folder)
    assert report_main(["--tracking-uri", uri]) == 0
    assert "Top-2 stability over 4 runs" in capsys.readouterr().out
    assert promote_main(["--tracking-uri", uri, "--consensus"]) == 0
    promoted = capsys.readouterr()
    assert "already exists" not in promoted.out + promoted.err  # a fresh registry
    mlflow.set_tracking_uri(uri)
    champion = mlflow.sklearn.load_model("models:/ebm-study@champion")
    from sklearn.base import clone

    assert "ExplainableBoostingClassifier(" in repr(champion)
    assert champion.get_params()["max_rounds"] == 300 and champion.get_params()["callback"] is None
    assert clone(champion).get_params()["outer_bags"] == 4  # 2 runs x 2 bags
    # New rows as a user has them: with their ID and dates, a category never seen, a gap.
    rows = patients(12, seed=5).drop(columns="outcome")
    rows.loc[0, "colour"], rows.loc[1, "a"] = "purple", np.nan
    rows.to_parquet(tmp_path / "new.parquet")
    paths = ["--input", str(tmp_path / "new.parquet"), "--output", str(tmp_path / "pred.csv")]
    assert predict_main(["--tracking-uri", uri, *paths]) == 0
    assert "column 'colour': 1 of 12 rows hold categories the model never saw ('purple')" in (
        capsys.readouterr().err
    )
    predicted = pd.read_csv(tmp_path / "pred.csv")
    assert predicted["id"].tolist() == rows["id"].tolist()  # the ID rides along
    assert set(predicted["prediction"]) <= {"low", "mid", "high"}
    from ebm_study.fit.data import decimal_year

    X = rows.drop(columns="id").assign(visit=decimal_year(rows["visit"], "visit"))
    X = X[list(champion.feature_names_in_)]
    low = list(champion.classes_).index("low")
    assert np.allclose(predicted["probability_low"], champion.predict_proba(X)[:, low])
    # Its reasons' stability leaves out the split seed its merged runs share: 2 runs remain.
    assert predict_main(["--tracking-uri", uri, *paths, "--reasons", "2"]) == 0
    assert "across the 2 runs of the model's setting on other split seeds" in (
        capsys.readouterr().out
    )


# ---------------------------------------------------------------------------------------------
# A rare positive class whose text category ranks first


@pytest.fixture(scope="module")
def rare(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rare")
    path = folder / "churn.csv"
    churn().to_csv(path, index=False)
    result = run_cli(
        "-m",
        "split_seed=0,1,2",
        "data=csv",
        f"data.path={path}",
        "data.target=churned",
        "data.categorical=[plan]",
        "top_k=2",
        *SMALL,
        *store_overrides(folder),
    )
    parent, jobs = sweep_of(all_runs(store_uri(folder)))
    return folder, result, parent, jobs


@pytest.mark.sweeps
def test_rare_positives_are_warned_about_in_the_runs_and_the_study(rare):
    folder, result, parent, jobs = rare
    assert result.returncode == 0, result.stderr[-3000:]
    assert all("average_precision" in j.data.metrics for j in jobs)
    warned = [j for j in jobs if "ebm_study.warning" in j.data.tags]
    assert warned, [j.data.metrics["f1"] for j in jobs]
    for job in warned:
        text = job.data.tags["ebm_study.warning"]
        assert "class 1" in text and "average_precision" in text
        assert f"f1={job.data.metrics['f1']:.3f}" in text or "so f1=0" in text
    assert f"{len(warned)} of 3 runs warned" in result.stdout
    assert f"{len(warned)} of 3 runs warned" in parent.data.tags["mlflow.note.content"]
    assert artifact_table(parent, "topk_frequency.json").iloc[0]["term"] == "plan"


@pytest.mark.sweeps
def test_the_studys_score_and_promotions_can_be_average_precision(rare):
    folder, _, parent, jobs = rare
    uri = store_uri(folder)
    report = run_cli(
        "--tracking-uri", uri, "--metric", "average_precision", program="ebm-study-report"
    )
    assert report.returncode == 0, report.stderr[-3000:]
    assert "mean average precision (95% CI)" in report.stdout  # the table's header
    mean = np.mean([j.data.metrics["average_precision"] for j in jobs])
    client = MlflowClient(tracking_uri=uri)
    assert client.get_run(parent.info.run_id).data.metrics[
        "mean_average_precision"
    ] == pytest.approx(mean)
    promote = run_cli("--tracking-uri", uri, program="ebm-study-promote")
    assert promote.returncode == 0, promote.stderr[-3000:]
    best = max(jobs, key=lambda j: j.data.metrics["average_precision"])
    assert f"highest average_precision = {best.data.metrics['average_precision']:.4f}" in (
        promote.stdout
    )
    # The training file itself predicts: its target set aside and written beside.
    rows = folder / "churn.csv"
    out = run_cli(
        "--tracking-uri", uri, "--input", str(rows), "--output", str(folder / "pred.csv"),
        program="ebm-study-predict",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "(beside churned)" in out.stdout
    predicted = pd.read_csv(folder / "pred.csv")
    mlflow.set_tracking_uri(uri)
    champion = mlflow.sklearn.load_model(f"runs:/{best.info.run_id}/model")
    X = pd.read_csv(rows).drop(columns="churned")
    assert predicted["churned"].tolist() == pd.read_csv(rows)["churned"].tolist()
    assert np.allclose(predicted["probability_1"], champion.predict_proba(X)[:, 1])


# ---------------------------------------------------------------------------------------------
# A study that fails: the parent FAILED with its error, exit 1, `ebm-study-report` retries


@pytest.mark.sweeps
def test_a_failed_study_fails_the_sweep_and_the_report_retries_it(tmp_path):
    uri = store_uri(tmp_path)
    result = run_cli(
        "-m", "split_seed=0,1,2", "data=diabetes", "study.metric=average_precision", *SMALL,
        *store_overrides(tmp_path),
    )  # fmt: skip
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ebm-study: error: the stability study failed (UserError: ")
    assert "study.metric='average_precision' is not logged by this sweep's runs" in last
    parent, jobs = sweep_of(all_runs(uri))
    assert parent.info.status == "FAILED" and all(j.info.status == "FINISHED" for j in jobs)
    assert parent.data.tags["error"].startswith("study failed: UserError: study.metric=")
    assert "stability_nogueira" not in parent.data.metrics
    again = run_cli("--tracking-uri", uri, program="ebm-study-report")
    assert again.returncode == 2 and "study.metric='average_precision'" in again.stderr
    fixed = run_cli("--tracking-uri", uri, "--metric", "r2", program="ebm-study-report")
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    assert f"sweep run {parent.info.run_id}: FINISHED" in fixed.stdout
    parent = MlflowClient(tracking_uri=uri).get_run(parent.info.run_id)
    assert parent.info.status == "FINISHED" and "error" not in parent.data.tags
    assert "stability_nogueira" in parent.data.metrics and "mean_r2" in parent.data.metrics
