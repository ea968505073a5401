"""`ebm-study-migrate`: copy the embedded store's runs to a team's tracking server (the copying
is tracking/migration.py)."""

from __future__ import annotations

import os
import sys

from ebm_study import console
from ebm_study.commands import parsers
from ebm_study.config import compose_default, mask_uri
from ebm_study.errors import UserError
from ebm_study.tracking import store
from ebm_study.tracking.migration import copy_store

PROG = "ebm-study-migrate"


def embedded_store() -> str:
    """The embedded store's URI, whatever MLFLOW_TRACKING_URI says."""
    return f"sqlite:///{compose_default().paths.mlruns}/mlflow.db"


@console.command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Console script `ebm-study-migrate`."""
    args = parsers.migrate().parse_args(argv)
    # MLflow prints a "View run" link for every run it closes; hundreds of them here.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    source = args.source or embedded_store()
    target = args.to or os.environ.get("MLFLOW_TRACKING_URI")
    if not target:
        raise UserError("--to is missing: give the server's URI, or set MLFLOW_TRACKING_URI")
    if target == source:
        raise UserError(f"--to={mask_uri(target)} is the store runs are copied from")
    if target.startswith(("http://", "https://")):
        store.check_server(target, setting="--to")
    if source.startswith(store.SQLITE) and not os.path.exists(source.removeprefix(store.SQLITE)):
        raise UserError(f"--from={source} does not exist; nothing to migrate")
    store.use(target)  # so messages about the server name it
    report = copy_store(source, target, args.experiment)
    print(
        f"copied {report.runs} runs, {report.models} models and {report.versions} registered "
        f"versions of {', '.join(report.experiments) or 'no experiments'} from "
        f"{mask_uri(source)} to {mask_uri(target)}"
    )
    if report.already:
        print(f"{report.already} runs were already there (copied before)")
    if report.unfinished:
        print(f"{report.unfinished} runs not copied: still RUNNING (or their parent is)")
    for line in report.aliases:
        print(f"alias {line}")
    for line in report.aliases_kept:
        print(f"alias {line} kept: the server's alias is not moved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
