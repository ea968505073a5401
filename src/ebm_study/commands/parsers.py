"""Every console script's command line, apart from the work: the light end of each command.

Only argparse and the ground floor's light modules are imported here, so `entry` can answer
--help and a bad argument before a command imports MLflow, pandas and scikit-learn (2-3 s here,
which only the work needs). `ebm-study` itself is Hydra's command line (commands/train.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ebm_study import console, settings

STORE_HELP = "MLflow store (default: MLFLOW_TRACKING_URI or mlruns/mlflow.db)"


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tracking-uri", help=STORE_HELP)


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """--sweep, --experiment and --tracking-uri: which sweep a command reads."""
    parser.add_argument("--sweep", help="the sweep's parent run id (default: the newest sweep)")
    parser.add_argument("--experiment", help="experiment name (default: from the config)")
    add_store_argument(parser)


def report() -> argparse.ArgumentParser:
    parser = console.parser(
        "ebm-study-report",
        "Recompute a sweep's top-k stability study from MLflow and log it on the sweep's "
        "parent run.",
    )
    add_sweep_arguments(parser)
    parser.add_argument("--top-k", type=int, help="terms that count as on top (default: sweep's)")
    parser.add_argument(
        "--terms", help=f"{' or '.join(settings.TERMS)}: let pair terms compete or not"
    )
    parser.add_argument("--rbo-p", type=float, help="rank-biased overlap persistence in (0, 1)")
    parser.add_argument(
        "--metric",
        help="the test metric the study sums runs up by (default: the sweep's study.metric, "
        "else f1; r2 for a regression): average_precision for a rare positive class",
    )
    parser.add_argument(
        "--reliable",
        type=float,
        help="a term is reliably on top when the 95%% lower bound of its top-k frequency "
        "reaches this (default: the sweep's study.reliable, 0.9)",
    )
    parser.add_argument(
        "--near-best",
        type=float,
        help="the near-best models: the settings whose mean score is within this of the "
        "best's (default: those the paired test by split seed cannot tell from it)",
    )
    parser.add_argument(
        "--top-reasons",
        type=int,
        help="the per-row study: each row's strongest terms compared across runs (default: "
        "the sweep's study.top_reasons, 3)",
    )
    parser.add_argument(
        "--reference",
        metavar="PATH",
        help="the per-row study's rows: a CSV or Parquet file with the data's columns "
        "(default: the sweep's study.reference, else the data set's rows)",
    )
    parser.add_argument(
        "--reference-rows",
        type=int,
        help="at most this many reference rows, a seeded sample above (default: the sweep's "
        "study.reference_rows, 1000)",
    )
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help='two terms, e.g. "worst texture" "mean texture": the share of runs where A '
        "outranks B and their importance difference, intervals by split seed",
    )
    parser.add_argument(
        "--html",
        metavar="PATH",
        help="also write the study's one-page report (the parent run's study.html) to PATH",
    )
    parser.add_argument(
        "--no-log", action="store_true", help="print only; write nothing to the store"
    )
    return parser


def predict() -> argparse.ArgumentParser:
    parser = console.parser(
        "ebm-study-predict",
        "Predict the rows of a CSV file with the champion (or any logged model).",
    )
    parser.add_argument(
        "--input", required=True, type=Path, help="CSV (or .parquet) of feature columns"
    )
    parser.add_argument("--output", required=True, type=Path, help="CSV to write")
    parser.add_argument("--model", help="a models:/ or runs:/ URI (default: the champion)")
    parser.add_argument(
        "--reasons",
        metavar="N",
        help="add each row's N strongest terms (reason_1 ..) and what each adds to its score "
        "(reason_1_contribution ..)",
    )
    parser.add_argument(
        "--reason-stability",
        action=argparse.BooleanOptionalAction,
        default=None,  # None: added when they can be had; a note on stderr says why not
        help="with --reasons: how often each reason is among the row's top N across the runs "
        "of the model's setting in its sweep (reason_1_stability ..); default: added when "
        "those runs kept their models in the store",
    )
    add_store_argument(parser)
    return parser


def promote() -> argparse.ArgumentParser:
    parser = console.parser(
        "ebm-study-promote", "Register the best run of a sweep and point the alias @champion at it."
    )
    add_sweep_arguments(parser)
    parser.add_argument(
        "--metric", help="any logged metric (default: f1; r2 for a regression sweep)"
    )
    parser.add_argument(
        "--lower-is-better",
        action=argparse.BooleanOptionalAction,
        help="pick the smallest value (default: for rmse, mae and log_loss)",
    )
    parser.add_argument(
        "--min-stability",
        type=float,
        help="only settings whose top-k stability (Nogueira's Phi) is at least this",
    )
    parser.add_argument(
        "--consensus",
        action="store_true",
        help="register the merge (interpret's merge_ebms) of the chosen setting's runs that "
        "share the chosen run's split seed, logged as a run under the sweep",
    )
    parser.add_argument(
        "--pareto",
        action="store_true",
        help="the recommended setting on the Pareto front of accuracy and stability (the most "
        "accurate on the front whose stability reaches --min-stability, or the sweep's "
        "study.min_stability), then its best run",
    )
    parser.add_argument("--name", help="registered model name (default: from the config)")
    return parser


def migrate() -> argparse.ArgumentParser:
    parser = console.parser(
        "ebm-study-migrate",
        "Copy experiments, runs, models, registered versions and aliases from one "
        "MLflow store to another (by default: mlruns/mlflow.db to MLFLOW_TRACKING_URI). "
        "Safe to repeat: what was copied before is skipped.",
    )
    parser.add_argument("--to", help="the server, http://host:port (default: MLFLOW_TRACKING_URI)")
    parser.add_argument("--from", dest="source", help="default: the embedded mlruns/mlflow.db")
    parser.add_argument(
        "--experiment",
        action="append",
        help="copy only this experiment (repeat for more; default: every one with runs)",
    )
    return parser


def ui() -> argparse.ArgumentParser:
    parser = console.parser("ebm-study-ui-url", "Print the MLflow UI's URL for the study's runs.")
    parser.add_argument("--base", required=True, help="the UI's address, http://host:port")
    add_store_argument(parser)
    return parser
