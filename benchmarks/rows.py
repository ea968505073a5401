"""`make bench-rows`: what the per-row study (study/rows.py) costs against the sweep it studies.

Two sweeps, each in a fresh store under a temporary folder: `make run`'s (experiment=quick:
breast cancer, 40 runs), and 4 split seeds x 2 model seeds on a seeded 50,000-row table with
text categories (benchmarks/synthetic.py's flights). Then, in this process, from the store:
the study as `ebm-study-report` computes it, timed part by part: reading the runs' models
(shared with the near-twin groups and the shapes), the per-row study on its reference rows
(`study.reference_rows`, 1,000 by default: every run's reasons and predictions, and the
measures), and, for comparison, the same on every row of the table. Each is set against the
sweep's wall time (the fits, their logging and the study). The target: the per-row study at
most 5% of the sweep. Prints the figures and writes benchmarks/results/rows-<time>.json. The
machine is shared: compare within one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import tempfile
import time
from pathlib import Path

import synthetic
from bench import BIN, HERE, initialise, measure, store_args

TARGET = 0.05  # the per-row study's share of the sweep's wall time, at most


def timed(work):
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started


def study_parts(store: Path) -> dict:
    """The per-row study's parts on the store's one sweep, in seconds."""
    import mlflow

    from ebm_study.study import publish, row_reference, rows
    from ebm_study.study.groups import chosen_runs
    from ebm_study.study.reference import load_models
    from ebm_study.tracking import sweeps

    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    experiment = mlflow.get_experiment_by_name("bench").experiment_id
    parent = mlflow.search_runs(
        [experiment], "tags.`ebm_study.role` = 'sweep'", output_format="list"
    )[0]
    jobs = sweeps.jobs_frame(experiment, parent.info.run_id)
    finished = jobs[jobs["status"] == "FINISHED"]
    study = publish.compute(experiment, parent.info.run_id, jobs=jobs, read_models=False)
    fitted, read_s = timed(lambda: load_models(finished, chosen_runs(study, finished)))
    # The data, read once a process for the near-twins, shapes and rows alike: timed apart.
    first = str(finished.index[0])
    _, data_s = timed(lambda: row_reference.rows_of_run(first, None, study.settings.reference_rows))
    found, rows_s = timed(lambda: rows.row_study(study, finished, fitted))
    n_rows = len(row_reference.rows_of_run(str(finished.index[0]), None, 10**9).X)
    study.settings = dataclasses.replace(study.settings, reference_rows=n_rows)
    every, every_s = timed(lambda: rows.row_study(study, finished, fitted))
    return {
        "runs": int(len(finished)),
        "models_read": len(fitted),
        "read_models_s": read_s,
        "read_data_s": data_s,
        "row_study_s": rows_s,
        "reference_rows": int(len(found.table)),
        "every_row_s": every_s,
        "every_row_count": int(len(every.table)),
        "reason_stability": found.reasons.stability.value,
        "reason_stability_every_row": every.reasons.stability.value,
        "prediction_churn": found.churn.churn.value,
        "prediction_churn_every_row": every.churn.churn.value,
    }


def sweep(root: Path, name: str, *args: str) -> dict:
    store = root / name
    initialise(store)
    ran = measure(str(BIN / "ebm-study"), "-m", *args, *store_args(store))
    parts = study_parts(store)
    parts["sweep_wall_s"] = ran["wall"]
    parts["share"] = parts["row_study_s"] / ran["wall"]
    print(
        f"  {name}: sweep {ran['wall']:.0f} s, {parts['runs']} runs; per-row study "
        f"{parts['row_study_s']:.2f} s on {parts['reference_rows']:,} rows "
        f"({parts['share']:.1%} of the sweep; target <= {TARGET:.0%}: "
        f"{'met' if parts['share'] <= TARGET else 'NOT MET'}); every row "
        f"({parts['every_row_count']:,}): {parts['every_row_s']:.2f} s; reading "
        f"{parts['models_read']} models {parts['read_models_s']:.2f} s and the data "
        f"{parts['read_data_s']:.2f} s (shared with the groups and shapes)",
        flush=True,
    )
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="the large table's rows")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ebm-rows-"))
    results: dict = {}
    try:
        results["breast_cancer"] = sweep(root, "breast_cancer", "experiment=quick")
        table = root / "flights.csv"
        synthetic.flights(args.rows).to_csv(table, index=False)
        results["flights"] = sweep(
            root,
            "flights",
            "split_seed=0,1,2,3",
            "model_seed=0,1",
            "hydra/launcher=joblib",
            "data=csv",
            f"data.path={table}",
            *synthetic.OPTIONS["flights"],
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    out = HERE / "results" / f"rows-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
