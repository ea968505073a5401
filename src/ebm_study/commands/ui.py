"""`make ui` and `make server` print where the study is: the experiment's runs list in MLflow's
model-training view, not the GenAI overview MLflow 3 opens an experiment on by default."""

from __future__ import annotations

import sys
from urllib.parse import quote

from ebm_study import console
from ebm_study.commands import parsers
from ebm_study.config import compose_default
from ebm_study.tracking import store, tags

PROG = "ebm-study-ui-url"


def runs_url(base: str, experiment_id: str) -> str:
    """The experiment's runs list in the model-training view (`store.MODEL_TRAINING_VIEW`: the
    experiment's kind tag does not choose the view in MLflow 3.17's UI)."""
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs?{store.MODEL_TRAINING_VIEW}"


def settings_url(base: str, experiment_id: str) -> str:
    """The runs list filtered to the sweeps' settings runs (one a setting, study/outputs.py):
    expand a sweep and the table and the chart view compare its settings, not its jobs."""
    search = quote(f"tags.`{tags.ROLE}` = '{tags.ROLE_SETTING}'")
    return f"{runs_url(base, experiment_id)}&searchFilter={search}"


@console.command(PROG)
def main(argv: list[str] | None = None) -> int:
    """Print the URL of the study's runs in the UI at --base (the store a plain `ebm-study`
    uses, or --tracking-uri), creating the experiment if the store has none yet."""
    args = parsers.ui().parse_args(argv)
    cfg = compose_default()
    tracking = {**cfg.tracking, "uri": args.tracking_uri or str(cfg.tracking.uri)}
    experiment_id = store.connect(tracking)
    print(f"MLflow UI: {runs_url(args.base, experiment_id)}")
    print(f"one row a setting (expand a sweep): {settings_url(args.base, experiment_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
