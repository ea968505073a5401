"""The Hydra entry point `ebm-study`: each job trains, evaluates and explains an EBM, logged as
one run (commands/job.py, imported once a job runs). Only Hydra is imported before: `ebm-study
--help` and `--cfg job` answer without MLflow, interpret or scikit-learn (2-3 s here)."""

from __future__ import annotations

import functools
import warnings

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from ebm_study import console, interrupts
from ebm_study.config import CONF_DIR, register_resolvers

PROG = "ebm-study"


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def _job(cfg: DictConfig) -> float | None:
    """Returns the test score (F1; R2 for a regression), for sweepers that optimise."""
    from ebm_study.commands import job
    from ebm_study.fit import metrics

    _settled()
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN:
        return job.sweep_job(cfg, hydra_cfg)
    with console.user_errors(PROG):
        trained = job.fit_run(cfg, list(hydra_cfg.overrides.task))
    job.announce(trained, cfg)
    return metrics.score_of(trained.scores)


@functools.cache
def _settled() -> None:
    """Once a process (a launcher's worker, a run on its own) has imported the job's work."""
    console.settle_imports()


def main() -> None:
    """Console script `ebm-study` (and `python -m ebm_study`)."""
    console.quick_exit()
    register_resolvers()
    # conf/hydra/launcher/ray.yaml and joblib.yaml deliberately stand in for the plugins'
    # options of the same names (same keys: two fixes; warm workers); Hydra still checks each
    # against the plugin's schema and warns that this matching is deprecated, once per compose.
    # The joblib launcher's forked workers inherit this.
    warnings.filterwarnings(
        "ignore", message=r"\s*'hydra/launcher/(ray|joblib)' is validated against"
    )
    # Ctrl-C and SIGTERM unwind the job, so runs are closed KILLED, never left RUNNING.
    interrupts.install()
    _job()


if __name__ == "__main__":
    main()
