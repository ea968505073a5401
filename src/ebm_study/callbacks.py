"""Hydra callback: one MLflow parent run per sweep, opened before the jobs and closed after."""

from __future__ import annotations

import atexit
import logging
import sys
from collections import Counter
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from ebm_study import report, tracking, validate
from ebm_study.config import sweep_key, to_yaml
from ebm_study.errors import UserError
from ebm_study.overrides import swept_keys
from ebm_study.study import Settings

log = logging.getLogger(__name__)


def study_settings(config: DictConfig) -> Settings:
    return Settings(
        top_k=int(config.top_k), terms=str(config.study.terms), rbo_p=float(config.study.rbo_p)
    )


class SweepRun(Callback):
    """Creates the parent run in the launching process, whatever the launcher.

    Jobs find it by the sweep's directory tag, so worker processes and remote launchers need
    nothing passed to them. Creating it here, before any job, also initialises a fresh store
    from one process only.
    """

    def __init__(self) -> None:
        self.experiment_id: str | None = None
        self.parent_id: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            validate.check_config(config)
            self.experiment_id = tracking.connect(config.tracking)
            with tracking.server_refusals():
                self.parent_id = self._open_parent(config, self.experiment_id)
        except UserError as err:
            # Before any job: a bad value, an absent server or a refused login stops the sweep
            # at once. (Hydra turns a callback's exception into a warning; SystemExit passes.)
            print(f"ebm-study: error: {err}", file=sys.stderr)
            raise SystemExit(2) from None
        # Hydra skips on_multirun_end when the sweep itself dies (Ctrl-C, a launcher error):
        # never leave the parent RUNNING.
        atexit.register(tracking.end_if_running, self.parent_id, "KILLED")
        log.info("MLflow sweep run %s in %s", self.parent_id, tracking.describe_uri())

    @staticmethod
    def _open_parent(config: DictConfig, experiment_id: str) -> str:
        """The parent run: this command's unfinished sweep, resumed, or a new one."""
        overrides = list(config.hydra.overrides.task)
        sweep_dir = str(config.hydra.sweep.dir)
        key = sweep_key(overrides, config)
        resumed = None if config.study.rerun else tracking.newest_sweep(experiment_id, key)
        if resumed:
            tracking.reopen_sweep(resumed, sweep_dir)
            log.info("resuming sweep run %s: finished jobs are reused", resumed)
            return resumed
        swept = swept_keys(overrides, config.hydra.sweeper.get("params"))
        return tracking.start_sweep(
            experiment_id,
            sweep_dir,
            swept,
            overrides,
            to_yaml(config),
            report.settings_tags(study_settings(config)),
            key,
        )

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.parent_id is None or self.experiment_id is None:
            return
        jobs = tracking.jobs_frame(self.experiment_id, self.parent_id)
        try:
            settings = study_settings(config)
            study = report.publish(self.experiment_id, self.parent_id, settings, jobs)
            report.print_study(study, self.parent_id)
        except Exception as err:  # the sweep's runs are safe; `ebm-study-report` can retry
            log.error("stability study failed: %s: %s", type(err).__name__, err, exc_info=True)
        counts = Counter(jobs["status"]) if len(jobs) else Counter()
        failed = counts["FAILED"] + counts["KILLED"]
        summary = {"n_runs": len(jobs), "n_finished": counts["FINISHED"], "n_failed": failed}
        tracking.end_sweep(self.parent_id, "FAILED" if failed else "FINISHED", summary)
        log.info("sweep %s: %d finished, %d failed", self.parent_id, counts["FINISHED"], failed)
        if failed:
            bad = jobs[jobs["status"] != "FINISHED"]
            errors = sorted(set(bad["error"].dropna())) if "error" in bad else []
            lines = [
                f"ebm-study: {failed} of {len(jobs)} jobs failed ({'; '.join(errors)}); "
                f"their runs are FAILED under sweep run {self.parent_id} in "
                f"{tracking.describe_uri()}"
            ]
            lines += [f"  {name}" for name in bad["run_name"].head(10)]
            if failed > 10:
                lines.append(f"  ... and {failed - 10} more")
            lines.append(
                "  Fix the values and run the same command again: finished jobs are reused."
            )
            print("\n".join(lines), file=sys.stderr)
            # Hydra turns a callback's exception into a warning and exits 0; SystemExit passes.
            raise SystemExit(1)
