"""`make profile`: where a run's tracking time goes, in one process with pyinstrument.

Fits N runs bare (pipeline only), then the same N runs through `train` (everything logged)
into a fresh store, after one warm-up run that pays for imports and the store's creation.
Prints the per-run overhead and writes pyinstrument's tree of the tracked runs to
benchmarks/results/profile-<time>.txt (and .html).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pyinstrument import Profiler

from ebm_study.commands.job import train
from ebm_study.config import compose_default
from ebm_study.fit import pipeline

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("overrides", nargs="*", help="extra config overrides")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ebm-profile-"))
    base = [
        f"tracking.uri=sqlite:///{tmp}/mlflow.db",
        f"tracking.artifact_location={tmp}/artifacts",
        "tracking.experiment=profile",
        "model.n_jobs=1",
        *args.overrides,
    ]

    def cfg(seed: int):
        return compose_default([*base, f"split_seed={seed}"])

    train(cfg(1000))  # warm-up
    bare = time.perf_counter()
    for seed in range(args.runs):
        pipeline.fit_and_score(cfg(seed), pipeline.prepare(cfg(seed)))
    bare = time.perf_counter() - bare
    tracked = time.perf_counter()
    for seed in range(args.runs):
        train(cfg(seed))
    tracked = time.perf_counter() - tracked
    # Profiled apart: sampling slows the fits too, which would blur the overhead.
    profiler = Profiler(interval=0.005)
    with profiler:
        for seed in range(args.runs):
            train(cfg(100 + seed))
    print(f"{args.runs} runs: bare {bare:.2f} s, tracked {tracked:.2f} s")
    print(f"tracking overhead per run: {(tracked - bare) / args.runs:.3f} s")
    out = HERE / "results" / f"profile-{time.strftime('%Y%m%d-%H%M%S')}"
    out.parent.mkdir(exist_ok=True)
    out.with_suffix(".txt").write_text(profiler.output_text(unicode=False, show_all=True))
    out.with_suffix(".html").write_text(profiler.output_html())
    print(f"wrote {out.relative_to(HERE.parent)}.txt and .html")


if __name__ == "__main__":
    main()
