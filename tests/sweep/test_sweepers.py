"""hydra/sweeper=adaptive and hydra/sweeper=stability_search through the real `ebm-study -m`:
real Hydra, Optuna, MLflow and EBMs (tiny ones)."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from conftest import (
    TINY,
    all_runs,
    artifact_table,
    by_role,
    run_cli,
    running,
    start_cli,
    store_overrides,
    store_uri,
    sweep_of,
    wait_for,
)

from ebm_study.rounding import decimals, rounded_like
from ebm_study.tracking import tags


def csv(folder: Path, name: str, signal_strength: float) -> Path:
    """Two features that decide the class (signal_strength > 0) among six of noise."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 8))
    logit = signal_strength * (2 * X[:, 0] + X[:, 1]) + rng.normal(size=300)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)]).assign(y=(logit > 0).astype(int))
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.sweeps
def test_adaptive_stops_a_stable_setting_at_the_width_and_a_noisy_one_at_max_seeds(tmp_path):
    stable, noisy = csv(tmp_path, "stable", 5.0), csv(tmp_path, "noisy", 0.0)
    result = run_cli(
        "-m",
        "hydra/sweeper=adaptive",
        "data=csv",
        f"data.path={stable},{noisy}",
        "data.target=y",
        "top_k=2",
        "study.min_seeds=3",
        "study.max_seeds=5",
        "study.ci_width=0.05",
        "study.vary=model",
        *TINY,
        "tracking.log_model=false",
        *store_overrides(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    parent, jobs = sweep_of(all_runs(store_uri(tmp_path)))
    assert parent.data.tags[tags.SWEEPER] == "adaptive"
    seeds_table = artifact_table(parent, tags.SEEDS_BY_SETTING).set_index("setting")
    by_config = artifact_table(parent, tags.STABILITY_BY_CONFIG).set_index("setting")
    stable_row = next(s for s in by_config.index if "stable" in s)
    noisy_row = next(s for s in by_config.index if "noisy" in s)
    # The same two features on top every time: Phi 1, no width, at two looks in a row: done at
    # the first look after min_seeds (the launcher runs one job at a time here).
    assert by_config.loc[stable_row, "nogueira"] == 1.0
    assert (by_config.loc[stable_row, "seeds_used"], by_config.loc[stable_row, "stopped"]) == (
        4,
        "converged",
    )
    assert (by_config.loc[noisy_row, "seeds_used"], by_config.loc[noisy_row, "stopped"]) == (
        5,
        "max_seeds",
    )
    assert set(seeds_table["stopped"]) == {"converged", "max_seeds"}
    assert len(jobs) == 9 and {r.info.status for r in jobs} == {"FINISHED"}
    # vary=model: one split seed, model seeds 0, 1, 2, ... per setting.
    assert {r.data.params["split_seed"] for r in jobs} == {"0"}
    assert sorted(Counter(r.data.params["model_seed"] for r in jobs).items()) == [
        ("0", 2), ("1", 2), ("2", 2), ("3", 2), ("4", 1)
    ]  # fmt: skip
    assert "seeds (stopped)" in result.stdout and "4 (converged)" in result.stdout


SEARCH = [
    "-m",
    "hydra/sweeper=stability_search",
    "hydra.sweeper.n_trials=3",
    "model.learning_rate=tag(log, interval(0.01, 0.1))",
    "model.max_leaves=choice(2, 3)",
    "study.min_seeds=3",
    "study.max_seeds=4",
    "model.outer_bags=2",
    "model.max_rounds=300",
    "model.n_jobs=1",
    "tracking.log_model=false",
]


def optuna_trials(folder: Path) -> list:
    (name,) = optuna.get_all_study_names(f"sqlite:///{folder}/optuna.db")
    return optuna.load_study(study_name=name, storage=f"sqlite:///{folder}/optuna.db").trials


@pytest.mark.sweeps
def test_a_search_interrupted_resumes_without_refitting_and_leaves_a_true_pareto_front(tmp_path):
    uri = store_uri(tmp_path)
    proc = start_cli(*SEARCH, *store_overrides(tmp_path))

    def mid_second_trial() -> bool:
        runs = by_role(all_runs(uri), tags.ROLE_JOB)
        done = [r for r in runs if r.info.status == "FINISHED"]
        return len(done) >= 5 and any(r.info.status == "RUNNING" for r in runs)

    assert wait_for(mid_second_trial), proc.communicate()[1][-3000:]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0, (out + err)[-3000:]
    assert running(uri) == []
    before = {r.info.run_id for r in by_role(all_runs(uri), tags.ROLE_JOB)
              if r.info.status == "FINISHED"}  # fmt: skip
    interrupted = [t for t in optuna_trials(tmp_path) if t.user_attrs.get("interrupted")]
    assert len(interrupted) == 1 and interrupted[0].state.name == "FAIL"

    again = run_cli(*SEARCH, *store_overrides(tmp_path))
    assert again.returncode == 0, again.stderr[-3000:]
    parent, jobs = sweep_of(all_runs(uri))  # one parent: the same, resumed
    assert parent.info.status == "FINISHED"
    finished = [r for r in jobs if r.info.status == "FINISHED"]
    assert before <= {r.info.run_id for r in finished}  # reused, not fitted again
    keys = Counter(r.data.tags[tags.RUN_KEY] for r in finished)
    assert max(keys.values()) == 1  # no fit twice
    assert all(tags.TRIAL in r.data.tags for r in finished)
    trials = optuna_trials(tmp_path)
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == 3
    # The interrupted trial's setting was asked again, first.
    assert trials[interrupted[0].number + 1].params == interrupted[0].params

    # The front on the parent holds exactly the settings no other setting dominates.
    by_config = artifact_table(parent, tags.STABILITY_BY_CONFIG)
    front = artifact_table(parent, tags.PARETO_FRONT)
    f1 = {
        key: np.mean([r.data.metrics["f1"] for r in finished if r.data.tags["config_key"] == key])
        for key in by_config["config_key"]
    }
    phi = dict(zip(by_config["config_key"], by_config["nogueira"], strict=True))

    def beaten(key: str) -> bool:
        return any(
            f1[o] >= f1[key] and phi[o] >= phi[key] and (f1[o] > f1[key] or phi[o] > phi[key])
            for o in f1
            if o != key
        )

    assert set(front["config_key"]) == {k for k in f1 if not beaten(k)}
    assert front["recommended"].sum() == 1
    chart = Path(parent.info.artifact_uri.removeprefix("file://")) / tags.ACCURACY_CHART
    assert chart.stat().st_size > 0
    assert "Accurate and stable" in parent.data.tags[tags.NOTE]

    promoted = run_cli("--tracking-uri", uri, "--pareto", program="ebm-study-promote")
    assert promoted.returncode == 0, promoted.stderr
    best = front[front["recommended"]].iloc[0]
    assert f"setting {best['setting']}:" in promoted.stdout
    too_high = run_cli(
        "--tracking-uri", uri, "--pareto", "--min-stability", "0.999", program="ebm-study-promote"
    )
    assert too_high.returncode == 2
    assert (
        too_high.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "ebm-study-promote: error: --pareto: no setting on the front reaches stability 0.999"
        )
    )


@pytest.mark.sweeps
def test_a_failing_job_fails_its_trial_and_the_search_goes_on(tmp_path):
    result = run_cli(
        "-m",
        "hydra/sweeper=stability_search",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.sampler=random",
        # 5000 validation rows out of 455: the fit fails (the rows are known only to the fit)
        "model.validation_size=choice(0.15, 5000)",
        "study.min_seeds=3",
        "study.max_seeds=3",
        *TINY,
        "tracking.log_model=false",
        *store_overrides(tmp_path),
    )
    assert result.returncode == 1, result.stderr[-3000:]  # failures are reported at the end
    states = [t.state.name for t in optuna_trials(tmp_path)]
    assert states == ["FAIL", "COMPLETE"]
    parent, jobs = sweep_of(all_runs(store_uri(tmp_path)))
    assert Counter(r.info.status for r in jobs) == {"FAILED": 3, "FINISHED": 3}
    assert parent.info.status == "FAILED" and running(store_uri(tmp_path)) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["hydra/sweeper=stability_search", "model.learning_rate=interval(0.1, 0.01)"],
            r"hydra.sweeper.params: model.learning_rate=interval\(0.1, 0.01\): ",
        ),
        (
            ["hydra/sweeper=stability_search", "model.learning_rate=interval(-0.1, 0.1)"],
            r"model.learning_rate=-0.1 must be a number > 0",
        ),
        pytest.param(
            ["hydra/sweeper=stability_search", "model.learnin_rate=interval(0.01, 0.1)"],
            r"model.learnin_rate is not a key of the config",
            marks=pytest.mark.sweeps,
        ),
        pytest.param(
            ["hydra/sweeper=adaptive", "model.learning_rate=interval(0.01, 0.1)"],
            r"hydra/sweeper=adaptive runs a grid",
            marks=pytest.mark.sweeps,
        ),
        pytest.param(
            ["hydra/sweeper=adaptive", "split_seed=0,1"],
            r"draws the seeds itself",
            marks=pytest.mark.sweeps,
        ),
        pytest.param(
            ["hydra/sweeper=adaptive", "study.vary=data"],
            r"study.vary='data' is unknown",
            marks=pytest.mark.sweeps,
        ),
    ],
)
def test_a_bad_search_space_stops_before_any_run_with_one_line(tmp_path, arguments, message):
    result = run_cli("-m", *arguments, *TINY, *store_overrides(tmp_path))
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ebm-study: error: "), result.stderr
    assert pytest.importorskip("re").search(message, lines[0]), lines[0]
    assert all_runs(store_uri(tmp_path)) == []


@pytest.mark.sweeps
def test_a_search_on_phi_c_tells_optuna_the_correlation_aware_stability(tmp_path):
    result = run_cli(
        "-m",
        "hydra/sweeper=stability_search",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.seeds=3",
        "study.vary=split",
        "study.objective=nogueira_corr",
        "model.learning_rate=choice(0.01, 0.05)",
        "hydra.sweeper.sampler=random",
        *TINY,
        "tracking.log_model=false",
        *store_overrides(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    parent, jobs = sweep_of(all_runs(store_uri(tmp_path)))
    by_config = artifact_table(parent, tags.STABILITY_BY_CONFIG).set_index("config_key")
    for trial in optuna_trials(tmp_path):
        if trial.state.name == "COMPLETE" and "same_as_trial" not in trial.user_attrs:
            key = trial.user_attrs["config_key"]
            # Fixed seeds: the study's Phi_C over the same runs is what Optuna was told (the
            # table shows it to the digits its interval supports).
            row = by_config.loc[key]
            places = decimals(row["nogueira_corr_ci_low"], row["nogueira_corr_ci_high"])
            assert rounded_like(trial.values[1], places) == row["nogueira_corr"]
    assert parent.data.tags["study.objective"] == "nogueira_corr"
