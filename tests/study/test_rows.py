"""The per-row study on real EBMs (study/rows.py): a feature that decides every row is every
row's top reason in every retrain and no prediction changes; on noise the reasons are drawn
anew; regressions and three classes are read on one footing; and a reference file that does
not fit the data is one line before any fit."""

import numpy as np
import pandas as pd
import pytest
from conftest import all_runs, run_cli, store_overrides, store_uri, sweep_of
from interpret.glassbox import ExplainableBoostingClassifier, ExplainableBoostingRegressor
from sklearn.model_selection import train_test_split

from ebm_study.commands.report import main as report_main
from ebm_study.measures import rows as measures
from ebm_study.measures.by_split import Design
from ebm_study.study import rows

FAST = {"outer_bags": 2, "interactions": 0, "max_rounds": 300, "n_jobs": 1}
SPLITS, MODELS = 3, 2


def retrains(X, y, model):
    """A model a split seed and model seed, fitted on 70% of the rows; run_id -> model, and
    each run's split seed."""
    fitted, labels = {}, []
    for split in range(SPLITS):
        X_train, _, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=split)
        for seed in range(MODELS):
            fitted[f"{split}/{seed}"] = model(random_state=seed, **FAST).fit(X_train, y_train)
            labels.append(split)
    return fitted, Design.of(labels)


def frame(rng, n, d):
    return pd.DataFrame(rng.normal(size=(n, d)), columns=[f"x{j}" for j in range(d)])


def test_a_feature_that_decides_every_row_is_its_top_reason_in_every_retrain():
    rng = np.random.default_rng(0)
    X = frame(rng, 300, 4)
    # x0 far from its threshold in every row: nothing else can outweigh it
    X["x0"] = rng.choice([-1, 1], 300) * rng.uniform(1.5, 3, 300)
    y = (X["x0"] > 0).astype(int)
    fitted, design = retrains(X, y, ExplainableBoostingClassifier)
    scored = rows.score_runs(fitted, X, 3)
    found = measures.reasons(scored.top, len(scored.terms), design)
    assert found.agreement == 1.0
    assert {scored.terms[t] for t in found.modal} == {"x0"}
    churn = measures.class_churn(scored.predicted, len(scored.classes), design)
    assert churn.churn.value == 0.0 and (churn.modal_share == 1.0).all()


def test_on_noise_the_reasons_are_drawn_anew_each_retrain():
    rng = np.random.default_rng(1)
    X = frame(rng, 300, 8)
    y = pd.Series(rng.integers(0, 2, 300))
    fitted, design = retrains(X, y, ExplainableBoostingClassifier)
    scored = rows.score_runs(fitted, X, 3)
    found = measures.reasons(scored.top, len(scored.terms), design)
    assert found.stability.value < 0.25 and found.agreement < 0.2


def test_a_regression_compares_the_spread_across_retrains_with_the_bags():
    rng = np.random.default_rng(2)
    X = frame(rng, 300, 3)
    y = 3 * X["x0"] + rng.normal(size=300)
    fitted, design = retrains(X, y, ExplainableBoostingRegressor)
    scored = rows.score_runs(fitted, X, 2)
    assert scored.classes is None and scored.proba is None
    spread = measures.value_churn(scored.predicted, scored.bag_se, design)
    assert spread.spread > 0 and spread.bag_spread > 0
    assert spread.churn.value == pytest.approx(spread.spread / spread.bag_spread)
    found = measures.reasons(scored.top, len(scored.terms), design)
    assert found.agreement > 0.8  # x0 carries most of every row's prediction


def test_model_seeds_on_one_split_move_a_prediction_as_much_as_the_bags_allow_for():
    """Known truth on real fits: with the data held fixed, two runs differ only by how their
    outer bags were drawn, so the spread between them is what each model's bags say about its
    mean (predict_with_uncertainty's SD over the square root of bags - 1): a ratio near 1. A
    run's bag SD itself (not over that root) would put it far below."""
    rng = np.random.default_rng(4)
    X = frame(rng, 400, 3)
    y = 3 * X["x0"] + X["x1"] ** 2 + rng.normal(size=400)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=0)
    bags = {**FAST, "outer_bags": 8}
    fitted = {
        f"0/{seed}": ExplainableBoostingRegressor(random_state=seed, **bags).fit(X_train, y_train)
        for seed in range(8)
    }
    scored = rows.score_runs(fitted, X, 2)
    ratio = measures.value_churn(scored.predicted, scored.bag_se, Design.of([0] * 8)).churn
    assert 0.7 < ratio.value < 1.4
    assert ratio.ci_low < 1 < ratio.ci_high
    bag_sd = scored.bag_se * np.sqrt(8 - 1)  # interpret's own figure: one bag's spread
    assert measures.value_churn(scored.predicted, bag_sd, Design.of([0] * 8)).churn.value < 0.6


def test_three_classes_reason_about_the_predicted_class():
    rng = np.random.default_rng(3)
    X = frame(rng, 300, 4)
    y = pd.Series(np.select([X["x1"] < -0.4, X["x1"] > 0.4], ["low", "high"], "mid"))
    fitted, design = retrains(X, y, ExplainableBoostingClassifier)
    scored = rows.score_runs(fitted, X, 2)
    assert sorted(scored.classes) == ["high", "low", "mid"]
    mean = rows.weighted_mean(scored.proba, design)
    assert scored.proba.shape == (SPLITS * MODELS, 300, 3) and mean.shape == (300, 3)
    np.testing.assert_allclose(mean.sum(axis=1), 1.0)
    found = measures.reasons(scored.top, len(scored.terms), design)
    assert {scored.terms[t] for t in found.modal} == {"x1"}
    churn = measures.class_churn(scored.predicted, 3, design, rows.near_boundary(mean))
    assert 0 <= churn.churn.value < 0.2 and churn.n_near_boundary < 300


TINY = ["model.outer_bags=2", "model.max_rounds=100", "model.n_jobs=1"]


def test_a_reference_file_without_a_column_stops_a_sweep_before_any_job(tmp_path):
    from sklearn.datasets import load_breast_cancer

    path = tmp_path / "rows.csv"
    load_breast_cancer(as_frame=True).data.drop(columns=["mean radius"]).head(5).to_csv(path)
    result = run_cli(
        "-m", "split_seed=0,1", f"study.reference={path}", *TINY, *store_overrides(tmp_path)
    )
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ebm-study: error: study.reference='{path}' does not match the data")
    assert "missing columns: mean radius" in last and "extra columns: Unnamed: 0" in last
    assert all_runs(store_uri(tmp_path)) == []


def test_the_report_reads_a_reference_file_or_says_in_one_line_why_not(
    shared_sweep, tmp_path, capsys
):
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True).frame.head(40)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    data.assign(patient=[f"p{i}" for i in range(40)]).to_csv(good, index=False)
    data.drop(columns=["worst area"]).to_csv(bad, index=False)
    args = ["--tracking-uri", shared_sweep.uri, "--no-log", "--reference"]
    assert report_main([*args, str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing columns: worst area" in err[0]
    # an extra column the runs never saw (an ID) is named too: data.drop says what to leave out
    assert report_main([*args, str(good)]) == 2
    assert "extra columns: patient" in capsys.readouterr().err
    data.to_csv(good, index=False)  # the target is set aside, as ebm-study-predict does
    assert report_main([*args, str(good)]) == 0
    assert f"Per row, over the 40 rows of {good} scored by 12 runs" in capsys.readouterr().out


def test_a_recorded_reference_file_gone_since_leaves_out_the_rows_alone(shared_sweep, tmp_path):
    import mlflow

    from ebm_study.errors import UserError
    from ebm_study.study.publish import compute, sweep_settings

    mlflow.set_tracking_uri(shared_sweep.uri)
    parent = shared_sweep.parent
    gone = sweep_settings(parent).replace(reference=str(tmp_path / "gone.csv"))
    ids = (parent.info.experiment_id, parent.info.run_id)
    study = compute(*ids, gone)
    assert study.rows is None and study.groups is not None  # the rest of the study stands
    with pytest.raises(UserError, match="gone.csv"):
        compute(*ids, gone, check_reference=True)  # named now: the user's to fix, first


@pytest.mark.sweeps
def test_a_reference_file_moved_away_leaves_nan_and_says_whose_the_tables_are(tmp_path):
    """A sweep studied on a reference file, recomputed after the file moved: the rest of the
    study is logged, the per-row metrics are NaN (not an earlier study's numbers), and the
    tag and description say the per-row tables left on the run are an earlier study's."""
    import math

    from mlflow.tracking import MlflowClient
    from sklearn.datasets import load_breast_cancer

    path = tmp_path / "rows.csv"
    load_breast_cancer(as_frame=True).data.head(30).to_csv(path, index=False)
    result = run_cli(
        "-m", "split_seed=0,1,2", f"study.reference={path}", *TINY, *store_overrides(tmp_path)
    )
    assert result.returncode == 0, result.stderr[-2000:]
    uri = store_uri(tmp_path)
    parent, _ = sweep_of(all_runs(uri))
    assert parent.data.tags["study.reference"] == str(path)  # absolute, as given here
    assert 0 <= parent.data.metrics["reason_agreement"] <= 1
    path.rename(tmp_path / "moved.csv")
    assert report_main(["--tracking-uri", uri]) == 0
    after = MlflowClient(tracking_uri=uri).get_run(parent.info.run_id).data
    assert math.isnan(after.metrics["reason_agreement"])
    assert math.isnan(after.metrics["reason_stability"])
    assert after.metrics["stability_nogueira"] == pytest.approx(
        parent.data.metrics["stability_nogueira"]
    )
    tag = after.tags["ebm_study.reason_rows"]
    assert tag.startswith("the per-row study is left out of the latest study; earlier: the 30 rows")
    assert (
        "reasons.json and reasons.png are an earlier study's" in after.tags["mlflow.note.content"]
    )
