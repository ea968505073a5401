"""The study on a sweep's parent run, and `ebm-study-report` reproducing it from the store."""

import re
from pathlib import Path
from types import SimpleNamespace

import mlflow
import pytest
from conftest import artifact_table
from mlflow.tracking import MlflowClient

from ebm_study.commands.report import main as report_main
from ebm_study.rounding import decimals, rounded_like

HEADLINE = [
    "stability_nogueira",
    "stability_nogueira_ci_low",
    "stability_nogueira_ci_high",
    "stability_jaccard",
    "stability_rbo",
    "stability_kendall_w",
]


def by_config_of(parent, uri):
    mlflow.set_tracking_uri(uri)  # the client's load_table searches runs through the global URI
    return MlflowClient(tracking_uri=uri).load_table(
        parent.info.experiment_id, "stability_by_config.json", run_ids=[parent.info.run_id]
    )


def test_parent_run_carries_the_headline_with_its_interval(shared_sweep):
    metrics = shared_sweep.parent.data.metrics
    assert set(HEADLINE) <= set(metrics)
    assert metrics["stability_n_runs"] == 12 and metrics["n_failed"] == 6
    low, phi, high = (metrics[f"stability_nogueira{s}"] for s in ("_ci_low", "", "_ci_high"))
    assert low <= phi <= high and -1 <= phi <= 1
    assert metrics["stability_jaccard"] > metrics["stability_jaccard_chance"]
    capped = [j for j in shared_sweep.jobs if j.data.metrics.get("bags_at_max_rounds", 0) > 0]
    assert metrics["n_runs_at_max_rounds"] == len(capped)


def test_parent_run_carries_tables_pictures_and_summary(shared_sweep):
    parent = shared_sweep.parent
    client = MlflowClient(tracking_uri=shared_sweep.uri)
    paths = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {
        "stability_by_config.json",
        "topk_frequency.json",
        "topk_frequency.png",
        "rank_heatmap.png",
        "accuracy_vs_stability.png",
        "study.html",
    } <= paths
    by_config = by_config_of(parent, shared_sweep.uri)
    assert len(by_config) == 2 and (by_config["n_runs"] == 6).all()
    assert set(by_config["setting"]) == {"learning_rate=0.01", "learning_rate=0.05"}
    assert {"nogueira_ci_low", "rbo", "kendall_w", "mean_f1"} <= set(by_config.columns)
    note = parent.data.tags["mlflow.note.content"]
    assert "Top-5 stability over 12 runs on 3 split seeds" in note and "6 run(s) failed" in note
    assert parent.data.tags["study.top_k"] == "5"


def test_parent_run_says_what_can_be_trusted(shared_sweep):
    """Near-twins, the bags and the shapes: issue 15's measures on a real sweep's parent."""
    parent = shared_sweep.parent
    metrics = parent.data.metrics
    for name in ("stability_nogueira_corr", "shape_agreement_top_k"):
        assert -1 <= metrics[name] <= 1, name
    # Two outer bags a run: the within-run measure on every finished run, and their mean.
    within = [j.data.metrics["stability_within_run"] for j in shared_sweep.finished]
    assert all(-1 <= w <= 1 for w in within)
    assert metrics["stability_within_run"] == pytest.approx(sum(within) / len(within))
    # Model seeds on each split seed: stability within a split (the model's own randomness)
    # is measured beside the headline across split seeds, and agrees more.
    assert metrics["stability_nogueira_within_split"] >= metrics["stability_nogueira"] - 0.2
    assert -1 <= metrics["stability_nogueira_within_split"] <= 1
    assert metrics["stability_n_split_seeds"] == 3
    client = MlflowClient(tracking_uri=shared_sweep.uri)
    paths = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"term_groups.json", "shape_stability.json"} <= paths
    pictures = {a.path for a in client.list_artifacts(parent.info.run_id, "shapes")}
    assert pictures and all(p.startswith("shapes/") and p.endswith(".png") for p in pictures)
    note = parent.data.tags["mlflow.note.content"]
    assert "Phi_C" in note and "Do the shape functions agree?" in note
    job = shared_sweep.finished[0]
    assert "stability_within_run" in job.data.metrics


def test_report_reproduces_the_numbers_from_the_store_alone(shared_sweep, capsys):
    parent, before = shared_sweep.parent, shared_sweep.parent.data.metrics
    # The command, by default on the newest sweep of the experiment.
    assert report_main(["--tracking-uri", shared_sweep.uri]) == 0
    out = capsys.readouterr().out
    assert f"sweep run {parent.info.run_id}" in out
    from ebm_study.rounding import interval

    low, high = before["stability_nogueira_ci_low"], before["stability_nogueira_ci_high"]
    assert f"Phi (95% CI) = {interval(before['stability_nogueira'], low, high)}" in out
    assert "learning_rate=0.05" in out and "whole sweep" in out
    after = MlflowClient(tracking_uri=shared_sweep.uri).get_run(parent.info.run_id).data.metrics
    for name in HEADLINE:
        assert after[name] == pytest.approx(before[name])
    assert (
        len(by_config_of(parent, shared_sweep.uri)) == 2
    )  # re-logging replaces the tables, never appends


def test_report_with_other_settings_by_sweep_id_writes_nothing_with_no_log(shared_sweep, capsys):
    parent = shared_sweep.parent
    args = ["--tracking-uri", shared_sweep.uri, "--sweep", parent.info.run_id]
    assert report_main([*args, "--top-k", "3", "--terms", "mains", "--no-log"]) == 0
    assert "Top-3 stability over 12 runs on 3 split seeds" in capsys.readouterr().out
    tags = MlflowClient(tracking_uri=shared_sweep.uri).get_run(parent.info.run_id).data.tags
    assert tags["study.top_k"] == "5" and tags["study.terms"] == "all"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--experiment", "nope"], "--experiment='nope' does not exist"),
        (["--sweep", "0123456789abcdef0123456789abcdef"], "is not a sweep run"),
        (["--top-k", "0"], "--top-k=0 must be a whole number >= 1"),
        (["--terms", "pairs"], "--terms='pairs' is unknown; allowed: all, mains"),
        (["--rbo-p", "1.5"], "--rbo-p=1.5 must be a number between 0 and 1"),
        (["--top-k", "many"], "argument --top-k: invalid int value: 'many'"),
        (
            ["--compare", "worst txture", "mean texture"],
            "--compare 'worst txture' is not a term of this sweep's runs; did you mean "
            "'worst texture'",
        ),
        (["--compare", "mean texture"], "argument --compare: expected 2 arguments"),
        (["--reliable", "1.5"], "--reliable=1.5 must be a number between 0 and 1 (exclusive)"),
        (["--near-best", "-1"], "--near-best=-1.0 must be a number >= 0"),
    ],
)
def test_report_errors_are_one_line_with_exit_2(shared_sweep, capsys, args, message):
    assert report_main(["--tracking-uri", shared_sweep.uri, *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("ebm-study-report: error: ") and message in lines[0]
    )


def test_the_parent_says_which_conclusions_hold(shared_sweep):
    """Issue 25 on a real sweep: the reliably-top set first, orderings, near-twin groups as
    units (from the runs' models), and every near-best model."""
    parent = shared_sweep.parent
    metrics = parent.data.metrics
    client = MlflowClient(tracking_uri=shared_sweep.uri)
    paths = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {
        "reliable_top_k.json",
        "orderings.json",
        "group_topk_frequency.json",
        "near_best.json",
        "near_best.png",
    } <= paths
    reliable = artifact_table(parent, "reliable_top_k.json")
    assert metrics["n_reliable_top_k"] == reliable["reliable"].sum()
    # 3 split seeds: a term in every top 5 is bounded at 0.05 ** (1 / 3), below 0.9.
    assert reliable["lower_bound"].max() == pytest.approx(0.05 ** (1 / 3), abs=1e-3)
    low, phi, high = (metrics[f"stability_groups{s}"] for s in ("_ci_low", "", "_ci_high"))
    assert low <= phi <= high and -1 <= phi <= 1
    groups = artifact_table(parent, "group_topk_frequency.json")
    assert groups["unit"].str.startswith("group ").any()
    orderings = artifact_table(parent, "orderings.json")
    assert list(orderings["positions"]) == ["1-2", "2-3", "3-4", "4-5", "5-6", "6-7"]
    near = artifact_table(parent, "near_best.json")
    runs_of = {j.data.tags["config_key"] for j in shared_sweep.finished}
    assert 6 <= near["n_runs"].iloc[0] <= 12 and len(runs_of) == 2
    note = parent.data.tags["mlflow.note.content"]
    first, _, second = note.split("\n")[:3]
    assert first.startswith("**Reliably in the top 5**") and "3 of them" in first
    assert second.startswith("Top-5 stability over 12 runs on 3 split seeds")
    assert "### Every near-best model" in note and "Near-twin groups as units" in note


def test_report_compares_two_terms_a_user_names(shared_sweep, capsys):
    args = ["--tracking-uri", shared_sweep.uri, "--no-log"]
    assert report_main([*args, "--compare", "worst texture", "mean texture"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[1].startswith("Reliably in the top 5")
    assert out[-1].startswith(
        "worst texture against mean texture over 12 runs on 3 split seeds: worst texture "
        "outranks mean texture in a share"
    )


def test_the_parent_says_which_class_f1_is_about(shared_sweep):
    assert shared_sweep.parent.data.tags["positive_class"] == "1"
    assert (
        "F1, precision and recall are about class `1`"
        in shared_sweep.parent.data.tags["mlflow.note.content"]
    )


def test_each_finished_job_shows_its_settings_stability(shared_sweep):
    # Read with json (MLflow's load_table parses floats imprecisely: 0.3 as 0.30000000000000004).
    by_config = artifact_table(shared_sweep.parent, "stability_by_config.json")
    by_config = by_config.set_index("config_key")
    for job in shared_sweep.finished:
        row = by_config.loc[job.data.tags["config_key"]]
        # The table shows the digits its interval supports; the job's metric has them all.
        places = decimals(row["nogueira_ci_low"], row["nogueira_ci_high"])
        assert rounded_like(job.data.metrics["stability_nogueira"], places) == row["nogueira"]
    failed = [j for j in shared_sweep.jobs if j.info.status != "FINISHED"]
    assert failed and not any("stability_nogueira" in j.data.metrics for j in failed)


def test_a_job_already_holding_its_settings_stability_is_not_written_again():
    import pandas as pd

    from ebm_study.study.publish import changed_run_stability

    study = SimpleNamespace(
        by_config=pd.DataFrame({"config_key": ["a", "b"], "nogueira": [0.5, float("nan")]})
    )
    jobs = pd.DataFrame(
        {
            "status": ["FINISHED", "FINISHED", "FINISHED", "FAILED"],
            "config_key": ["a", "a", "b", "a"],
            "stability_nogueira": [0.5, 0.4, float("nan"), float("nan")],
        },
        index=["same", "stale", "undefined", "failed"],
    )
    assert changed_run_stability(jobs, study) == {"stale": 0.5}


def test_a_gone_sweep_with_no_finished_job_is_closed_though_there_is_no_study(tmp_path, capsys):
    """Nothing to study, but the runs a dead launch left RUNNING are closed KILLED, the sweep
    too; a bad --compare on the same store writes nothing."""
    import socket

    from ebm_study import liveness

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("ebm-study", artifact_location=str(tmp_path / "art"))
    dead = f"{socket.gethostname()}|{liveness.boot_id()}|999999|12345"
    parent = client.create_run(
        experiment,
        tags={"ebm_study.role": "sweep", "ebm_study.process": dead, "mlflow.runName": "sweep"},
    )
    job = client.create_run(
        experiment,
        tags={
            "ebm_study.role": "job",
            "ebm_study.process": dead,
            "mlflow.parentRunId": parent.info.run_id,
            "mlflow.runName": "job0",
        },
    )
    assert report_main(["--tracking-uri", uri]) == 2
    assert "has no FINISHED job runs" in capsys.readouterr().err
    for run in (parent, job):
        assert client.get_run(run.info.run_id).info.status == "KILLED"


# ---------------------------------------------------------------------------------------------
# Issue 26: the study on one page, settings as rows


def page_of(run, path="study.html") -> str:
    from pathlib import Path

    return (Path(run.info.artifact_uri.removeprefix("file://")) / path).read_text()


def test_the_parent_holds_one_self_contained_page_verdict_first(shared_sweep):
    parent = shared_sweep.parent
    html = page_of(parent)
    verdict = html.index('id="verdict"')
    # The verdict, then the table, then the pictures: headline with its interval, what is
    # reliably on top, the recommendation.
    assert verdict < html.index("Per setting") < html.index("<figure>")
    head = html[verdict : html.index("</section>", verdict)]
    assert "Reliably in the top 5" in head and "Top-5 stability over 12 runs" in head
    assert "Recommended: learning_rate=" in head
    # Self-contained: every picture embedded, nothing fetched.
    sources = re.findall(r'<img src="([^"]*)"', html)
    client = MlflowClient(tracking_uri=shared_sweep.uri)
    pngs = [a.path for a in client.list_artifacts(parent.info.run_id) if a.path.endswith(".png")]
    shapes = client.list_artifacts(parent.info.run_id, "shapes")
    assert len(sources) == len(pngs) + len(shapes) >= 4
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert "stability_vs_f1.png" not in pngs and "pareto_front.png" not in pngs
    assert "accuracy_vs_stability.png" in pngs


def test_numbers_show_the_digits_their_intervals_support(shared_sweep):
    from ebm_study.rounding import decimals, interval

    parent = shared_sweep.parent
    m = parent.data.metrics
    words = interval(
        m["stability_nogueira"], m["stability_nogueira_ci_low"], m["stability_nogueira_ci_high"]
    )
    assert f"= {words}" in parent.data.tags["mlflow.note.content"]
    assert f"= {words}" in page_of(parent)
    # The JSON table: each value to its own interval's digits; the metric keeps them all.
    by_config = artifact_table(parent, "stability_by_config.json")
    for row in by_config.itertuples():  # 3 split seeds: wide intervals, two or three decimals
        places = decimals(row.nogueira_ci_low, row.nogueira_ci_high)
        assert places <= 3 and round(row.nogueira, places) == row.nogueira


def settings_runs(uri, parent):
    client = MlflowClient(tracking_uri=uri)
    return client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}' "
        "and tags.`ebm_study.role` = 'setting'",
    )


def test_one_summary_run_a_setting_compares_settings_not_jobs(shared_sweep, capsys):
    from ebm_study.tracking import sweeps

    parent = shared_sweep.parent
    runs = {r.data.tags["ebm_study.summary_of"]: r for r in settings_runs(shared_sweep.uri, parent)}
    assert not any("setting" in r.data.tags for r in runs.values())  # grouping jobs by it: jobs
    assert set(runs) == {"learning_rate=0.01", "learning_rate=0.05"}
    by_config = artifact_table(parent, "stability_by_config.json").set_index("setting")
    for label, run in runs.items():
        assert run.info.status == "FINISHED" and run.info.run_name.startswith(label)
        assert run.data.params["model.learning_rate"] == label.split("=")[1]
        assert "split_seed" not in run.data.params and "model_seed" not in run.data.params
        m = run.data.metrics
        assert m["n_runs"] == 6 and m["n_split_seeds"] == 3
        assert m["mean_f1_ci_low"] <= m["mean_f1"] <= m["mean_f1_ci_high"]
        low, high = m["stability_nogueira_ci_low"], m["stability_nogueira_ci_high"]
        assert low <= m["stability_nogueira"] <= high
        row = by_config.loc[label]
        places = decimals(row["nogueira_ci_low"], row["nogueira_ci_high"])
        assert rounded_like(m["stability_nogueira"], places) == row["nogueira"]
    assert sum(r.data.tags["ebm_study.recommended"] == "true" for r in runs.values()) == 1
    # Never a job: not in the sweep's jobs, so not studied, counted or promoted.
    mlflow.set_tracking_uri(shared_sweep.uri)
    jobs = sweeps.jobs_frame(parent.info.experiment_id, parent.info.run_id)
    assert not set(jobs.index) & {r.info.run_id for r in runs.values()} and len(jobs) == 18
    # Recomputed, the study updates them in place: still one a setting.
    assert report_main(["--tracking-uri", shared_sweep.uri]) == 0
    capsys.readouterr()
    again = settings_runs(shared_sweep.uri, parent)
    assert {r.info.run_id for r in again} == {r.info.run_id for r in runs.values()}


def test_report_writes_the_page_anywhere_and_a_bad_path_is_one_line(shared_sweep, tmp_path, capsys):
    target = tmp_path / "out" / "study.html"
    args = ["--tracking-uri", shared_sweep.uri, "--no-log", "--html", str(target)]
    assert report_main(args) == 0
    assert f"the study's page: {target}" in capsys.readouterr().out
    assert 'id="verdict"' in target.read_text()
    blocker = tmp_path / "file"
    blocker.write_text("")
    args = ["--tracking-uri", shared_sweep.uri, "--html", str(blocker / "x.html")]
    assert report_main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ebm-study-report: error: --html=")


def test_the_parent_says_whether_each_rows_reasons_and_prediction_survive_a_retrain(shared_sweep):
    """Issue 27 on a real sweep: the per-row metrics, reasons.json (a row a reference row) and
    its picture, the description's paragraph and the page's section."""
    parent = shared_sweep.parent
    metrics = parent.data.metrics
    for name in ("reason_stability", "prediction_churn"):
        assert metrics[f"{name}_ci_low"] <= metrics[name] <= metrics[f"{name}_ci_high"]
    assert 0 <= metrics["reason_agreement"] <= 1 and 0 <= metrics["prediction_churn"] <= 1
    table = artifact_table(parent, "reasons.json")
    assert len(table) == 569 and table["row"].tolist() == list(range(569))  # breast cancer
    assert {"reason_1", "reason_1_share", "reason_3_share", "top_reason_share"} <= set(table)
    assert {"prediction", "prediction_share", "churn", "near_boundary"} <= set(table)
    assert (table["reason_1"] != table["reason_2"]).all()
    assert table["reason_1_share"].between(0, 1).all()
    share = (table["top_reason_share"] >= 0.9 - 1e-9).mean()
    assert share == pytest.approx(metrics["reason_agreement"], abs=1e-9)
    client = MlflowClient(tracking_uri=shared_sweep.uri)
    assert "reasons.png" in {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert parent.data.tags["ebm_study.reason_rows"] == "the 569 rows of the data set"
    note = parent.data.tags["mlflow.note.content"]
    assert "### Do a row's reasons and its prediction survive a retrain?" in note
    assert "`reason_agreement`" in note and "`prediction_churn`" in note
    page = client.download_artifacts(parent.info.run_id, "study.html", str(shared_sweep.folder))
    text = Path(page).read_text(encoding="utf-8")
    assert "<h2>Do a row&#x27;s reasons and its prediction survive a retrain?</h2>" in text
    assert 'alt="Reasons per row"' in text
