"""`make bench-tail`: the slowest fit against the median, before and after the round cap.

The same sweep twice, `split_seed=range(20)` x `model_seed=range(2)` on breast cancer with the
joblib launcher, each into a fresh store under a temporary folder:
  before   model.max_rounds=50000 (interpret's default, the fast settings' old cap)
  after    the fast settings as conf/ gives them (rounds x learning rate = 30)
and prints, per variant, the fits' median and slowest seconds, the runs with a bag at the cap,
mean accuracy and F1 with 95% t-intervals over runs, the study's Phi with its interval, and the
sweep's wall time. Writes benchmarks/results/tail-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from bench import BIN, HERE, initialise, measure, store_args
from scipy import stats

VARIANTS = {"before": ["model.max_rounds=50000"], "after": []}


def mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    """The mean and its 95% t-interval."""
    mean = float(values.mean())
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


def summarise(store: Path) -> dict:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["bench"], output_format="list")
    jobs = [r for r in runs if r.data.tags.get("ebm_study.role") == "job"]
    (parent,) = [r for r in runs if r.data.tags.get("ebm_study.role") == "sweep"]
    fit = np.array([r.data.metrics["fit_seconds"] for r in jobs])
    slowest = jobs[int(fit.argmax())]
    capped = [r for r in jobs if r.data.metrics.get("bags_at_max_rounds", 0) > 0]
    m = parent.data.metrics
    return {
        "runs": len(jobs),
        "fit_median_s": float(np.median(fit)),
        "fit_max_s": float(fit.max()),
        "slowest_over_median": float(fit.max() / np.median(fit)),
        "slowest_run": slowest.info.run_name,
        "runs_with_a_bag_at_the_cap": [r.info.run_name for r in capped],
        "accuracy": mean_ci(np.array([r.data.metrics["accuracy"] for r in jobs])),
        "f1": mean_ci(np.array([r.data.metrics["f1"] for r in jobs])),
        "phi": (
            m["stability_nogueira"],
            m["stability_nogueira_ci_low"],
            m["stability_nogueira_ci_high"],
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=20, help="split seeds (default 20)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ebm-tail-"))
    results: dict = {}
    try:
        for name, extra in VARIANTS.items():
            store = root / name
            initialise(store)
            sweep = measure(
                str(BIN / "ebm-study"),
                "-m",
                f"split_seed=range({args.splits})",
                "model_seed=range(2)",
                "hydra/launcher=joblib",
                *extra,
                *store_args(store),
            )
            results[name] = {"sweep_wall_s": sweep["wall"], "sweep_cpu_s": sweep["cpu"]}
            results[name].update(summarise(store))
            print(f"  {name:<7} {sweep['wall']:.0f} s", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def interval(v: tuple[float, float, float], digits: int = 4) -> str:
        return f"{v[0]:.{digits}f} ({v[1]:.{digits}f}-{v[2]:.{digits}f})"

    print(f"\n{'':<28}" + "".join(f"{n:>24}" for n in results))
    rows = [
        ("runs", lambda r: f"{r['runs']}"),
        ("median fit s", lambda r: f"{r['fit_median_s']:.2f}"),
        ("slowest fit s", lambda r: f"{r['fit_max_s']:.2f}"),
        ("slowest / median", lambda r: f"{r['slowest_over_median']:.1f}"),
        ("runs with a bag at the cap", lambda r: f"{len(r['runs_with_a_bag_at_the_cap'])}"),
        ("mean accuracy (95% CI)", lambda r: interval(r["accuracy"])),
        ("mean F1 (95% CI)", lambda r: interval(r["f1"])),
        ("Phi (95% CI)", lambda r: interval(r["phi"], 2)),
        ("sweep wall s", lambda r: f"{r['sweep_wall_s']:.0f}"),
        ("sweep CPU s", lambda r: f"{r['sweep_cpu_s']:.0f}"),
    ]
    for label, cell in rows:
        print(f"{label:<28}" + "".join(f"{cell(r):>24}" for r in results.values()))
    verdict = results["after"]["slowest_over_median"] <= 3
    print(f"\ntail check (after): slowest fit <= 3 x median: {'met' if verdict else 'NOT MET'}")
    out = HERE / "results" / f"tail-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
