"""`make bench`: what ebm-study adds to the fits themselves, measured side by side in one run.

Variants, each in fresh processes and a fresh store under a temporary folder:
  floor        the same fits and predictions, bare, in one process, no tracking (floor.py);
               its wall time counts its imports, as any script that fits must
  floor x2     the same fits bare, half in each of two processes at once
  naive        a script per run with mlflow.sklearn.autolog, from a shell loop (naive_run.py)
  sequential   ebm-study -m over N split seeds, basic launcher, everything logged
  no-models    the same with tracking.log_model=false
  parallel     the same with the joblib launcher, 2 workers (model.n_jobs=auto -> 1 each)
  fixed-*      a sweep of 2 trivial fits per launcher: start-up, parent run, study
Then ebm-study-report on stores of 10 and 10,000 synthetic runs of ebm-study's shape, and the
per-run overhead of a small sweep logging into each of those stores. Every variant's tail is
its slowest fit over its median fit.

Prints a table and writes benchmarks/results/bench-<time>.json. Figures, not pass/fail: the
machine is shared, so only ratios measured here, side by side, mean anything.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import startup
import targets

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CORES = len(os.sched_getaffinity(0))


def measure(*cmd: str, env: dict | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, str(HERE / "measure.py"), *cmd],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    result = json.loads(out.stdout)
    if result["returncode"] != 0:
        sys.exit(f"bench: {' '.join(cmd[:3])}... failed:\n{result['stderr']}")
    return result


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def store_args(store: Path, experiment: str = "bench") -> list[str]:
    return [
        f"tracking.uri=sqlite:///{store}/mlflow.db",
        f"tracking.artifact_location={store}/artifacts",
        f"tracking.experiment={experiment}",
        f"hydra.sweep.dir={store}/hydra/{time.time_ns()}",
    ]


def initialise(store: Path, experiment: str = "bench") -> None:
    """Create the store and experiment first, as a user's first run did long ago: a fresh
    SQLite store's schema migration takes seconds that are no part of a sweep."""
    from ebm_study.tracking import store as tracking

    tracking.connect(
        {
            "uri": f"sqlite:///{store}/mlflow.db",
            "experiment": experiment,
            "artifact_location": str(store / "artifacts"),
        }
    )


def sweep(store: Path, runs: int, *extra: str, experiment: str = "bench") -> dict:
    initialise(store, experiment)
    result = measure(
        str(BIN / "ebm-study"),
        "-m",
        f"split_seed=range({runs})",
        *extra,
        *store_args(store, experiment),
    )
    result["bytes"] = du(store)
    result["model_bytes"] = du(store / "artifacts" / experiment / "models")
    return result


def synthetic_store(store: Path, n_runs: int, experiment: str = "bench") -> str:
    """A sweep of n_runs finished runs shaped like ebm-study's (28 params, 20 tags, 9 metrics,
    an importance table of 30 terms), made without fitting: what the study reads."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    client = MlflowClient()
    exp = client.get_experiment_by_name(experiment)
    exp_id = (
        exp.experiment_id
        if exp
        else client.create_experiment(experiment, (store / "artifacts").resolve().as_uri())
    )
    parent = client.create_run(
        exp_id,
        run_name="synthetic sweep",
        tags={"ebm_study.role": "sweep", "ebm_study.swept": "split_seed,model.learning_rate"},
    )
    rng = np.random.default_rng(0)
    terms = [f"feature {i}" for i in range(30)]
    base = np.linspace(1.0, 0.05, 30)
    versions = {f"versions.{p}": "1.0" for p in ("mlflow", "numpy", "pandas", "python")}
    versions |= {f"versions.{p}": "1.0" for p in ("hydra-core", "interpret-core", "scikit-learn")}
    extra_params = [Param(f"model.option_{j}", str(j)) for j in range(25)]
    logged = json.dumps([{"path": "importance.json", "type": "table"}])
    for i in range(n_runs):
        key, lr = f"setting{i % 10}", f"0.0{i % 10}"
        name = f"split_seed={i},learning_rate={lr}"
        run = client.create_run(
            exp_id,
            run_name=name,
            tags={
                "mlflow.parentRunId": parent.info.run_id,
                "ebm_study.role": "job",
                "config_key": key,
                "ebm_study.run_key": f"{key}-{i}",
                "ebm_study.host": "bench",
                "ebm_study.launcher": "BasicLauncher",
                "ebm_study.version": "0",
                "mlflow.source.git.commit": "0" * 40,
                "mlflow.loggedArtifacts": logged,
                **versions,
            },
        )
        now = int(time.time() * 1000)
        scores = {"f1": 0.95 + rng.random() / 20, "accuracy": 0.96, "precision": 0.97}
        scores |= {"recall": 0.98, "roc_auc": 0.99, "log_loss": 0.1, "fit_seconds": 2.0}
        scores |= {"boosting_rounds_max": 200.0, "bags_at_max_rounds": 0.0}
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in scores.items()],
            params=[
                Param("split_seed", str(i)),
                Param("model_seed", "0"),
                Param("model.learning_rate", lr),
                *extra_params,
            ],
        )
        # The table as log_table writes it, straight into the run's artifact folder.
        values = base * rng.lognormal(0, 0.15, 30)
        order = np.argsort(-values)
        table = {
            "columns": ["rank", "term", "importance", "kind"],
            "data": [[r + 1, terms[j], float(values[j]), "main"] for r, j in enumerate(order)],
        }
        folder = Path(urlsplit(run.info.artifact_uri).path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "importance.json").write_text(json.dumps(table))
        client.set_terminated(run.info.run_id)
    client.set_terminated(parent.info.run_id)
    return parent.info.run_id


def run_floor(runs: int, start: int = 0) -> dict:
    result = measure(
        sys.executable, str(HERE / "floor.py"), "--runs", str(runs), "--start", str(start)
    )
    result.update(json.loads(result["stdout"].strip().splitlines()[-1]))
    return result


def fit_seconds(store: Path, experiment: str) -> list[float]:
    """Every job's fit_seconds in a store."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="list")
    return [r.data.metrics["fit_seconds"] for r in runs if "fit_seconds" in r.data.metrics]


def tail(fits: list[float]) -> float | None:
    """The slowest fit over the median fit."""
    return float(max(fits) / np.median(fits)) if fits else None


# Each a trivial fit (one bag, one round): what a sweep costs besides its fits.
TRIVIAL = ["model.max_rounds=1", "model.outer_bags=1", "tracking.log_model=false"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per variant (default 20)")
    parser.add_argument("--big-store", type=int, default=10_000, help="runs in the large store")
    parser.add_argument("--skip-naive", action="store_true", help="the slowest variant")
    args = parser.parse_args()
    n = args.runs
    root = Path(tempfile.mkdtemp(prefix="ebm-bench-"))
    results: dict = {"runs": n, "cores": CORES, "python": sys.version.split()[0]}
    try:
        print(f"bench: {n} runs a variant, {CORES} cores, stores under {root}", flush=True)
        results["startup"] = startup.measure()
        print(f"  --help      {results['startup']['help_ebm_study']:.2f} s", flush=True)
        floor = run_floor(n)
        results["floor"] = floor
        results["floor-start"] = run_floor(0)  # a python process importing what fits need
        print(f"  floor       {floor['wall']:.1f} s ({floor['loop_wall']:.1f} s fitting)")
        # The same fits bare in CORES processes at once: what the hardware gives in parallel.
        share = n // CORES
        both = measure(
            "bash",
            "-c",
            " & ".join(
                f"{sys.executable} {HERE / 'floor.py'} --runs {share} --start {i * share}"
                for i in range(CORES)
            )
            + " & wait",
        )
        both["fit_seconds"] = [
            f for line in both["stdout"].splitlines() for f in json.loads(line)["fit_seconds"]
        ]
        results["floor-parallel"] = both
        print(f"  floor x{CORES}    {both['wall']:.1f} s", flush=True)

        for name, extra in [
            ("sequential", ["model.n_jobs=1"]),
            ("no-models", ["model.n_jobs=1", "tracking.log_model=false"]),
            ("parallel", ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={CORES}"]),
        ]:
            results[name] = sweep(root / name, n, *extra)
            results[name]["fit_seconds"] = fit_seconds(root / name, "bench")
            print(f"  {name:<11} {results[name]['wall']:.1f} s", flush=True)

        # What a sweep costs besides its fits: CORES trivial jobs, each launcher.
        for name, extra in [
            ("fixed-basic", ["model.n_jobs=1"]),
            ("fixed-joblib", ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={CORES}"]),
        ]:
            results[name] = sweep(root / name, CORES, *TRIVIAL, *extra)
            print(f"  {name:<11} {results[name]['wall']:.1f} s", flush=True)

        if not args.skip_naive:
            store = root / "naive"
            store.mkdir()
            # From inside its store: MLflow puts a new experiment's artifacts under the cwd.
            loop = (
                f"cd {store} && for seed in $(seq 0 {n - 1}); do {sys.executable} "
                f"{HERE / 'naive_run.py'} --seed $seed --tracking-uri sqlite:///{store}/mlflow.db"
                " || exit 1; done"
            )
            results["naive"] = measure("bash", "-c", loop)
            results["naive"]["bytes"] = du(store)
            results["naive"]["fit_seconds"] = fit_seconds(store, "naive")
            print(f"  naive       {results['naive']['wall']:.1f} s", flush=True)

        # The study from the store alone, small and large, and per-run overhead against each.
        small_runs = 5
        small_floor = run_floor(small_runs)["wall"]  # the same five fits, bare
        for size in (10, args.big_store):
            store = root / f"store{size}"
            store.mkdir()
            initialise(store)
            made = time.perf_counter()
            parent = synthetic_store(store, size)
            made = time.perf_counter() - made
            report = measure(
                str(BIN / "ebm-study-report"),
                "--sweep",
                parent,
                "--experiment",
                "bench",
                "--tracking-uri",
                f"sqlite:///{store}/mlflow.db",
            )
            grow = sweep(store, small_runs, "model.n_jobs=1")
            results[f"store{size}"] = {
                "report_wall": report["wall"],
                "report_peak_rss_mib": report["peak_rss_mib"],
                "sweep_wall": grow["wall"],
                "overhead_s_per_run": (grow["wall"] - small_floor) / small_runs,
                "seconds_to_make": made,
            }
            print(f"  store {size:>5}  report {report['wall']:.1f} s", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    seq, par, both = results["sequential"], results["parallel"], results["floor-parallel"]
    start = results["floor-start"]["wall"]
    big = args.big_store
    figures = {
        "overhead_s_per_run": (seq["wall"] - floor["wall"]) / n,
        "overhead_s_per_run_no_models": (results["no-models"]["wall"] - floor["wall"]) / n,
        "overhead_s_per_run_vs_fitting_only": (seq["wall"] - floor["loop_wall"]) / n,
        "fixed_s_basic": results["fixed-basic"]["wall"] - start,
        "fixed_s_joblib": results["fixed-joblib"]["wall"] - start,
        "parallel_vs_bare_parallel": par["wall"] / both["wall"],
        # Were every run's tracking free, the fixed costs alone would leave this ratio:
        "parallel_bound_from_fixed": (both["wall"] + results["fixed-joblib"]["wall"] - start)
        / both["wall"],
        "parallel_floor_efficiency": both["wall"] / (floor["loop_cpu"] / CORES),
        "speedup_over_naive": results["naive"]["wall"] / seq["wall"]
        if "naive" in results
        else None,
        "speedup_over_naive_parallel": (
            results["naive"]["wall"] / par["wall"] if "naive" in results else None
        ),
        "report_big_s": results[f"store{big}"]["report_wall"],
        "report_10_s": results["store10"]["report_wall"],
        "overhead_s_per_run_store10": results["store10"]["overhead_s_per_run"],
        "overhead_s_per_run_store_big": results[f"store{big}"]["overhead_s_per_run"],
        "model_kib_per_run": seq["model_bytes"] / n / 1024,
        "store_kib_per_run": seq["bytes"] / n / 1024,
        "store_kib_per_run_no_models": results["no-models"]["bytes"] / n / 1024,
    }
    figures["tail"] = {
        name: tail(results[name].get("fit_seconds", []))
        for name in ("floor", "floor-parallel", "naive", "sequential", "no-models", "parallel")
        if name in results
    }
    results["figures"] = figures
    print_table(results, figures, big)
    out = HERE / "results" / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    for variant in results.values():
        if isinstance(variant, dict):
            variant.pop("stdout", None)
            variant.pop("stderr", None)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out.relative_to(HERE.parent)}")


def print_table(results: dict, figures: dict, big: int) -> None:
    n = results["runs"]
    print(f"\n{'variant':<15}{'wall s':>9}{'cpu s':>9}{'peak MiB':>10}{'KiB/run':>10}{'tail':>7}")
    names = ("floor", "floor-parallel", "naive", "sequential", "no-models", "parallel")
    for name in (*names, "fixed-basic", "fixed-joblib"):
        if name in results:
            r = results[name]
            t = figures["tail"].get(name)
            print(
                f"{name:<15}{r['wall']:>9.1f}{r['cpu']:>9.1f}{r['peak_rss_mib']:>10.0f}"
                f"{r.get('bytes', 0) / n / 1024:>10.0f}{'' if t is None else f'{t:.1f}':>7}"
            )
    print(
        f"(peak MiB: the largest single process; KiB/run: bytes written to the store / {n};"
        " tail: slowest fit / median fit; fixed-*: a sweep of trivial fits)"
    )

    def line(label: str, value: float | None, target: str | None = None, unit: str = "") -> None:
        if value is None:
            print(f"  {label:<58} not measured")
            return
        verdict = ""
        if target:
            op, bound = target.split()
            met = value <= float(bound) if op == "<=" else value >= float(bound)
            verdict = f" (target {target}{unit.strip()}) " + ("met" if met else "NOT MET")
        print(f"  {label:<58} {value:8.2f}{unit}{verdict}")

    print("\nfigures")
    line(
        "  tracking overhead per run, no models",
        figures["overhead_s_per_run_no_models"],
        None,
        " s",
    )
    line(
        "  the same, against the fitting loop alone (imports counted)",
        figures["overhead_s_per_run_vs_fitting_only"],
        None,
        " s",
    )
    line(
        "  joblib sweep: its bound from the fixed cost alone", figures["parallel_bound_from_fixed"]
    )
    line("  bare fits two at a time / (floor CPU / cores)", figures["parallel_floor_efficiency"])
    line("speed-up over naive, joblib launcher", figures["speedup_over_naive_parallel"], None, "x")
    line(f"ebm-study-report, {big} runs", figures["report_big_s"], "<= 10", " s")
    line("overhead per run, store of 10 runs", figures["overhead_s_per_run_store10"], None, " s")
    line(
        f"overhead per run, store of {big} runs",
        figures["overhead_s_per_run_store_big"],
        None,
        " s",
    )
    line("model artifact per run", figures["model_kib_per_run"], None, " KiB")
    line("store per run, models", figures["store_kib_per_run"], None, " KiB")
    line("store per run, no models", figures["store_kib_per_run_no_models"], None, " KiB")
    worst = max((t for t in figures["tail"].values() if t is not None), default=None)
    line("tail: slowest fit / median fit, worst variant", worst, "<= 3")
    targets.print_targets(results, figures)


if __name__ == "__main__":
    main()
