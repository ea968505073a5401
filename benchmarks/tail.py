"""`make bench-tail`: the round cap, measured where it matters: breast cancer's straggler fits,
and two larger tables whose bags keep learning for thousands of rounds.

Each table swept several ways, each into a fresh store under a temporary folder:
  breast_cancer  `split_seed=range(20)` x `model_seed=range(2)`, joblib launcher (2 workers)
  houses         benchmarks/synthetic.py's 80,000 house prices, `split_seed=range(4)`
  flights        benchmarks/synthetic.py's 300,000 flights, `split_seed=range(3)`
(the larger ones on the basic launcher: one fit at a time on every core), with
  uncapped    model.max_rounds=50000 (interpret's default)
  fixed cap   rounds x learning rate = 30 whatever the rows (the fast settings' old cap)
  auto        the fast settings as conf/ gives them (model.max_rounds=auto)
and prints, per variant: the fits' median and slowest seconds, the runs and bags the cap
stopped, the score's mean with its 95% t-interval over runs and the largest change of any
run's score against the same seeds uncapped, the study's Phi, and the sweep's wall time.
Writes benchmarks/results/tail-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import synthetic
from bench import BIN, HERE, initialise, measure, store_args
from scipy import stats

OLD_BUDGET = 30  # rounds x learning rate of the old fixed cap
LEARNING_RATE = 0.015  # conf/model/ebm.yaml's
TABLES = {
    "breast_cancer": {
        "sweep": ["split_seed=range(20)", "model_seed=range(2)", "hydra/launcher=joblib"],
        "score": "f1",
    },
    "houses": {"rows": 80_000, "sweep": ["split_seed=range(4)"], "score": "r2"},
    "flights": {"rows": 300_000, "sweep": ["split_seed=range(3)"], "score": "roc_auc"},
}
VARIANTS = {
    "uncapped": ["model.max_rounds=50000"],
    "fixed cap": [f"model.max_rounds={math.ceil(OLD_BUDGET / LEARNING_RATE)}"],
    "auto": [],
}


def mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    """The mean and its 95% t-interval."""
    mean = float(values.mean())
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


def summarise(store: Path, score: str) -> dict:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["bench"], output_format="list")
    jobs = [r for r in runs if r.data.tags.get("ebm_study.role") == "job"]
    (parent,) = [r for r in runs if r.data.tags.get("ebm_study.role") == "sweep"]
    fit = np.array([r.data.metrics["fit_seconds"] for r in jobs])
    bags = [int(r.data.metrics.get("bags_at_max_rounds", 0)) for r in jobs]
    m = parent.data.metrics
    return {
        "runs": len(jobs),
        "fit_median_s": float(np.median(fit)),
        "fit_max_s": float(fit.max()),
        "slowest_over_median": float(fit.max() / np.median(fit)),
        "caps": sorted({int(r.data.metrics.get("max_rounds", 0)) for r in jobs}),
        "runs_capped": sum(b > 0 for b in bags),
        # How far the longest bag boosted, as rounds x learning rate (uncapped: what it needed).
        "longest_bag_budget": max(r.data.metrics["boosting_rounds_max"] for r in jobs)
        * float(jobs[0].data.params["model.learning_rate"]),
        "bags_capped": sum(bags),
        "bags": len(jobs) * int(jobs[0].data.params.get("model.outer_bags", 8)),
        "score": mean_ci(np.array([r.data.metrics[score] for r in jobs])),
        "by_seeds": {
            f"{r.data.params['split_seed']}/{r.data.params['model_seed']}": r.data.metrics[score]
            for r in jobs
        },
        "phi": m.get("stability_nogueira", math.nan),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tables", default=",".join(TABLES), help=f"which of {', '.join(TABLES)} (default all)"
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ebm-tail-"))
    results: dict = {}
    try:
        for table in args.tables.split(","):
            spec = TABLES[table]
            data: list[str] = []
            if "rows" in spec:
                path = root / f"{table}.csv"
                synthetic.TABLES[table](spec["rows"]).to_csv(path, index=False)
                data = ["data=csv", f"data.path={path}", *synthetic.OPTIONS[table]]
            results[table] = {}
            for name, extra in VARIANTS.items():
                if name == "fixed cap" and "rows" not in spec:
                    continue  # at breast cancer's 455 rows the auto cap is the fixed one
                store = root / f"{table}-{name.replace(' ', '-')}"
                initialise(store)
                sweep = measure(
                    str(BIN / "ebm-study"), "-m", *spec["sweep"], *data, *extra,
                    *store_args(store),
                )  # fmt: skip
                found = summarise(store, spec["score"])
                found.update({"sweep_wall_s": sweep["wall"], "sweep_cpu_s": sweep["cpu"]})
                results[table][name] = found
                print(f"  {table:<14} {name:<10} {sweep['wall']:.0f} s", flush=True)
            base = results[table]["uncapped"]["by_seeds"]
            for found in results[table].values():
                found["max_score_change"] = max(
                    abs(v - base[k]) for k, v in found["by_seeds"].items()
                )
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def interval(v: tuple[float, float, float], digits: int = 4) -> str:
        return f"{v[0]:.{digits}f} ({v[1]:.{digits}f}-{v[2]:.{digits}f})"

    rows = [
        ("runs", lambda r: f"{r['runs']}"),
        ("round cap(s)", lambda r: ",".join(str(c) for c in r["caps"])),
        ("median / slowest fit s", lambda r: f"{r['fit_median_s']:.2f} / {r['fit_max_s']:.2f}"),
        ("slowest / median", lambda r: f"{r['slowest_over_median']:.1f}"),
        ("runs, bags the cap stopped", lambda r: f"{r['runs_capped']}, {r['bags_capped']}"),
        ("longest bag, rounds x rate", lambda r: f"{r['longest_bag_budget']:.1f}"),
        ("mean score (95% CI)", lambda r: interval(r["score"])),
        ("largest change vs uncapped", lambda r: f"{r['max_score_change']:.4f}"),
        ("Phi", lambda r: f"{r['phi']:.2f}"),
        ("sweep wall / CPU s", lambda r: f"{r['sweep_wall_s']:.0f} / {r['sweep_cpu_s']:.0f}"),
    ]
    for table, variants in results.items():
        print(f"\n{table} ({TABLES[table]['score']})" + "".join(f"{n:>26}" for n in variants))
        for label, cell in rows:
            print(f"{label:<28}" + "".join(f"{cell(r):>26}" for r in variants.values()))
    checks = []
    for table, variants in results.items():
        auto = variants["auto"]
        checks.append(f"{table}: slowest <= 3 x median {auto['slowest_over_median'] <= 3}")
        checks.append(f"{table}: no score change {auto['max_score_change'] <= 1e-9}")
    print("\nauto: " + "; ".join(checks))
    out = HERE / "results" / f"tail-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
