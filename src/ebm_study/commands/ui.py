"""`make ui` and `make server` print where the study is: the experiment's runs list in MLflow's
model-training view, not the GenAI overview MLflow 3 opens an experiment on by default."""

from __future__ import annotations

import sys

from ebm_study import console
from ebm_study.commands import cli
from ebm_study.config import compose_default
from ebm_study.tracking import store

PROG = "ebm-study-ui-url"


def runs_url(base: str, experiment_id: str) -> str:
    """The experiment's runs list in the model-training view (`store.MODEL_TRAINING_VIEW`: the
    experiment's kind tag does not choose the view in MLflow 3.17's UI)."""
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs?{store.MODEL_TRAINING_VIEW}"


@console.command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Print the URL of the study's runs in the UI at --base (the store a plain `ebm-study`
    uses, or --tracking-uri), creating the experiment if the store has none yet."""
    parser = console.parser(PROG, "Print the MLflow UI's URL for the study's runs.")
    parser.add_argument("--base", required=True, help="the UI's address, http://host:port")
    cli.add_store_argument(parser)
    args = parser.parse_args(argv)
    cfg = compose_default()
    tracking = {**cfg.tracking, "uri": args.tracking_uri or str(cfg.tracking.uri)}
    print(f"MLflow UI: {runs_url(args.base, store.connect(tracking))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
