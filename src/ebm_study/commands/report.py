"""`ebm-study-report`: recompute a sweep's stability study from the store and log it on the
sweep's parent run (study/publish.py does the work, as at the end of every sweep)."""

from __future__ import annotations

import sys

from ebm_study import console, settings
from ebm_study.commands import cli
from ebm_study.errors import UserError
from ebm_study.study.publish import (
    NothingToStudy,
    build_outputs,
    compute,
    publish,
    sweep_settings,
    write_page,
)
from ebm_study.study.verdicts import compare_sentence
from ebm_study.study.words import (
    print_study,
)
from ebm_study.tracking import orphans, sweeps

PROG = "ebm-study-report"
# The command line's spelling of each study setting, for its error messages.
CLI_NAMES = {
    "top_k": "--top-k",
    "terms": "--terms",
    "rbo_p": "--rbo-p",
    "metric": "--metric",
    "reliable": "--reliable",
    "near_best": "--near-best",
    "top_reasons": "--top-reasons",
    "reference_rows": "--reference-rows",
    "reference": "--reference",
}


def close_gone_sweep(parent_id: str) -> None:
    """Close the sweep's parent run KILLED if the launch running it is gone."""
    if orphans.close_orphan_sweep(sweeps.get_run(parent_id), by=PROG):
        print(f"sweep run {parent_id} was left RUNNING by a launch that is gone: closed KILLED")


@console.command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Console script `ebm-study-report`."""
    parser = console.parser(
        PROG,
        "Recompute a sweep's top-k stability study from MLflow and log it on the sweep's "
        "parent run.",
    )
    cli.add_sweep_arguments(parser)
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
    args = parser.parse_args(argv)
    parent = cli.select_sweep(args, cli.use_store(args))
    parent_id, experiment_id = parent.info.run_id, parent.info.experiment_id
    chosen = sweep_settings(parent).replace(
        CLI_NAMES,
        top_k=args.top_k,
        terms=args.terms,
        rbo_p=args.rbo_p,
        metric=args.metric,
        reliable=args.reliable,
        near_best=args.near_best,
        top_reasons=args.top_reasons,
        reference_rows=args.reference_rows,
        reference=args.reference,
    )
    asked = [tuple(args.compare)] if args.compare else []
    if args.no_log:
        study = compute(
            experiment_id, parent_id, chosen, asked=asked, check_reference=bool(args.reference)
        )
        if args.html:
            jobs = sweeps.jobs_frame(experiment_id, parent_id)
            write_page(build_outputs(study, jobs, parent_id).page, args.html)
    else:  # the study first: a bad --compare term stops it before anything is written
        try:
            study = publish(
                experiment_id,
                parent_id,
                chosen,
                asked=asked,
                html_path=args.html,
                check_reference=bool(args.reference),
            )
        except NothingToStudy:  # no finished job: a gone launch's sweep is closed still
            close_gone_sweep(parent_id)
            raise
        except UserError:  # a bad value (a --compare term, a --metric): nothing is written
            raise
        except BaseException:  # anything else that stops the study: closed still
            close_gone_sweep(parent_id)
            raise
        close_gone_sweep(parent_id)
    print_study(study, parent_id)
    for a, b in asked:
        print(compare_sentence(study, a, b))
    if args.html:
        print(f"the study's page: {args.html}")
    if not args.no_log:
        status = sweeps.clear_study_failure(parent_id)
        if status is not None:
            print(f"the study the sweep lacked is on it now; sweep run {parent_id}: {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
