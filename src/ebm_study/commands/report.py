"""`ebm-study-report`: recompute a sweep's stability study from the store and log it on the
sweep's parent run (study/publish.py does the work, as at the end of every sweep)."""

from __future__ import annotations

import sys

from ebm_study import console
from ebm_study.commands import cli, parsers
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
    args = parsers.report().parse_args(argv)
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
