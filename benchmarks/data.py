"""`make bench-data`: what ebm-study adds to the fits on a large table, side by side in one run.

A seeded 300,000-row table with text categories, an ID and dates (benchmarks/synthetic.py's
flights, read with `data.categorical`, `data.drop` and `data.dates`), each variant in a fresh
process and a fresh store under a temporary folder:
  single   one run, everything logged (model, chart, tables, dataset)
  sweep    `-m split_seed=0,1,2`, basic launcher (one process: its peak memory is the sweep's)
  report   `ebm-study-report` on that sweep
From the store: per run, the time beyond the fit (the run's own duration less `fit_seconds`:
reading and splitting the data, scoring, importance, logging), and the study after the fits
(the parent's end less its last job's end). Prints the figures against their targets and
writes benchmarks/results/data-<time>.json. The machine is shared: compare within one run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import synthetic
from bench import BIN, HERE, initialise, measure, store_args


def runs_of(store: Path) -> tuple[list, object | None]:
    """The store's job runs, and its sweep's parent run (None for a single run)."""
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{store}/mlflow.db")
    runs = mlflow.search_runs(experiment_names=["bench"], output_format="list")
    jobs = [r for r in runs if r.data.tags.get("ebm_study.role") == "job"]
    parents = [r for r in runs if r.data.tags.get("ebm_study.role") == "sweep"]
    return jobs, parents[0] if parents else None


def beyond_fit(job) -> tuple[float, float]:
    """A run's duration less its fit, and its fit, in seconds."""
    duration = (job.info.end_time - job.info.start_time) / 1000
    fit = job.data.metrics["fit_seconds"]
    return duration - fit, fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000, help="rows (default 300,000)")
    parser.add_argument("--seeds", type=int, default=3, help="split seeds of the sweep")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="the table without its ID and date columns, read with data.categorical only: "
        "what an older ebm-study (no data.drop, data.dates) can read, to compare with it",
    )
    parser.add_argument(
        "--codes",
        action="store_true",
        help="with --plain: the text categories as integer codes, a table of numbers only",
    )
    parser.add_argument("overrides", nargs="*", help="config overrides for every run")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ebm-data-"))
    table = root / "flights.csv"
    frame = synthetic.flights(args.rows)
    options = synthetic.OPTIONS["flights"]
    if args.plain:
        frame = frame.drop(columns=["tailnum", "date"])
        options = [o for o in options if o.startswith(("data.target", "data.categorical"))]
    if args.codes:
        text = ["carrier", "origin", "dest"]
        frame[text] = frame[text].apply(lambda c: c.astype("category").cat.codes)
        options = [o for o in options if not o.startswith("data.categorical")]
    frame.to_csv(table, index=False)
    common = ["data=csv", f"data.path={table}", *options, *args.overrides]
    results: dict = {
        "rows": args.rows,
        "table_mib": table.stat().st_size / 2**20,
        "options": options,
    }
    try:
        store = root / "single"
        initialise(store)
        single = measure(str(BIN / "ebm-study"), *common, *store_args(store))
        (job,), _ = runs_of(store)
        extra, fit = beyond_fit(job)
        results["single"] = {
            "wall_s": single["wall"],
            "peak_rss_mib": single["peak_rss_mib"],
            "fit_s": fit,
            "beyond_fit_s": extra,
        }
        print(f"  single  {single['wall']:.0f} s", flush=True)

        store = root / "sweep"
        initialise(store)
        seeds = ",".join(str(s) for s in range(args.seeds))
        sweep = measure(
            str(BIN / "ebm-study"), "-m", f"split_seed={seeds}", *common, *store_args(store)
        )
        jobs, parent = runs_of(store)
        pairs = [beyond_fit(j) for j in jobs]
        last_job_end = max(j.info.end_time for j in jobs)
        study_s = (parent.info.end_time - last_job_end) / 1000
        results["sweep"] = {
            "wall_s": sweep["wall"],
            "peak_rss_mib": sweep["peak_rss_mib"],
            "runs": len(jobs),
            "fit_s": [f for _, f in pairs],
            "beyond_fit_s": [e for e, _ in pairs],
            "study_after_fits_s": study_s,
        }
        print(f"  sweep   {sweep['wall']:.0f} s", flush=True)

        report = measure(
            str(BIN / "ebm-study-report"), "--tracking-uri", f"sqlite:///{store}/mlflow.db",
            "--experiment", "bench",
        )  # fmt: skip
        results["report"] = {"wall_s": report["wall"], "peak_rss_mib": report["peak_rss_mib"]}
        print(f"  report  {report['wall']:.0f} s", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    s, w = results["single"], results["sweep"]
    worst = max(
        (e - (1 + 0.02 * f) for e, f in zip(w["beyond_fit_s"], w["fit_s"], strict=True)),
        default=0.0,
    )
    rows = [
        ("rows, CSV MiB", f"{args.rows:,}, {results['table_mib']:.0f}", ""),
        ("single run: wall s / fit s", f"{s['wall_s']:.1f} / {s['fit_s']:.1f}", ""),
        (
            "per run beyond the fit, s (single; sweep's runs)",
            f"{s['beyond_fit_s']:.2f}; " + ", ".join(f"{e:.2f}" for e in w["beyond_fit_s"]),
            "<= 1 s + 2% of the fit: "
            + ("met" if worst <= 0 and s["beyond_fit_s"] <= 1 + 0.02 * s["fit_s"] else "NOT MET"),
        ),
        (
            "the study after the fits, s (share of the sweep)",
            f"{w['study_after_fits_s']:.1f} ({w['study_after_fits_s'] / w['wall_s']:.1%})",
            "<= 10%: " + ("met" if w["study_after_fits_s"] <= 0.1 * w["wall_s"] else "NOT MET"),
        ),
        (
            "peak memory MiB: sweep / single run",
            f"{w['peak_rss_mib']:.0f} / {s['peak_rss_mib']:.0f} "
            f"({w['peak_rss_mib'] / s['peak_rss_mib']:.2f}x)",
            "<= 1.5x: " + ("met" if w["peak_rss_mib"] <= 1.5 * s["peak_rss_mib"] else "NOT MET"),
        ),
        (
            "ebm-study-report: wall s, peak MiB",
            f"{results['report']['wall_s']:.1f}, {results['report']['peak_rss_mib']:.0f}",
            "",
        ),
        (
            "sweep wall s, runs, median fit s",
            f"{w['wall_s']:.0f}, {w['runs']}, {np.median(w['fit_s']):.1f}",
            "",
        ),  # fmt: skip
    ]
    width = max(len(r[0]) for r in rows)
    for label, value, target in rows:
        print(f"{label:<{width}}  {value:<28} {target}")
    out = HERE / "results" / f"data-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
