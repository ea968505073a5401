"""Hydra callback: one MLflow parent run per sweep, opened before the jobs and closed after."""

from __future__ import annotations

import atexit
import logging
import sys
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from ebm_study import console, liveness, settings
from ebm_study.config import sweep_key, to_yaml
from ebm_study.errors import UserError
from ebm_study.fit import library_warnings, validate
from ebm_study.overrides import swept_keys
from ebm_study.study import publish, row_reference, words
from ebm_study.sweep import plan as sweep_plan
from ebm_study.sweep.progress import Counts, Reporter, total_jobs
from ebm_study.tracking import launches, models, orphans, runs, store, sweeps, tags

log = logging.getLogger(__name__)
PROG = "ebm-study"


class SweepRun(Callback):
    """Creates the parent run in the launching process, whatever the launcher.

    Jobs find it by the sweep's directory tag, so worker processes and remote launchers need
    nothing passed to them. Creating it here, before any job, also initialises a fresh store
    from one process only.
    """

    def __init__(self) -> None:
        self.experiment_id: str | None = None
        self.parent_id: str | None = None
        self.progress: Reporter | None = None
        self.claim: launches.Claim | None = None
        self.heartbeat: liveness.Heartbeat | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Launchers pickle Hydra's callbacks with each job; the threads and the launch's claim
        # stay in the launching process.
        return {**self.__dict__, "progress": None, "claim": None, "heartbeat": None}

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        # Before any job: a bad value, an absent server, a refused login or the same sweep
        # already running elsewhere stops the sweep at once with one line and exit 2 (Hydra
        # turns a callback's exception into a warning; SystemExit passes).
        if config.tracking.log_model:
            models.warm()
        console.settle_imports()  # the launch's imports, the study's included (this module's)
        with console.user_errors(PROG):
            validate.check_config(config)
            row_reference.check_reference(config)  # study.reference, read before any fit
            plan = sweep_plan.plan(config)  # ours: the search space and seed rule, checked
            if plan is not None and plan.kind == sweep_plan.SEARCH:
                from ebm_study.sweep.search import storage_url

                storage_url(config.tracking)  # a server needs one named
            self.experiment_id = store.connect(config.tracking)
            key = sweep_key(list(config.hydra.overrides.task), config)
            self.claim = launches.claim(self.experiment_id, key)
            atexit.register(self.claim.release)
            self.parent_id = self._open_parent(config, self.experiment_id, key, plan)
        # Hydra skips on_multirun_end when the sweep itself dies (Ctrl-C, a launcher error):
        # never leave the parent RUNNING.
        atexit.register(sweeps.end_if_running, self.parent_id, "KILLED")
        log.info("MLflow sweep run %s in %s", self.parent_id, store.describe_uri())
        self.heartbeat = liveness.Heartbeat(self._beat).start()
        self.progress = self._start_progress(config, self.experiment_id, self.parent_id, plan)

    def _beat(self) -> None:
        """The launch is alive: the parent's heartbeat, and a server claim's."""
        if self.parent_id is not None:
            runs.beat(self.parent_id)
        if self.claim is not None:
            self.claim.beat()

    @staticmethod
    def _start_progress(
        config: DictConfig, experiment_id: str, parent_id: str, plan: sweep_plan.Plan | None
    ) -> Reporter:
        """Progress from the store, for any launcher: the jobs write there wherever they run.
        Seeds on demand have no total known in advance."""
        total = (
            total_jobs(config.hydra.overrides.task, config.hydra.sweeper.get("params"))
            if plan is None
            else None
        )
        # A server is asked less often than a local file.
        interval = 2.0 if store.describe_uri().startswith("sqlite") else 5.0
        reporter = Reporter(
            lambda: Counts(*sweeps.job_counts(experiment_id, parent_id)), total, interval=interval
        )
        reporter.start()
        return reporter

    @staticmethod
    def _open_parent(
        config: DictConfig, experiment_id: str, key: str, plan: sweep_plan.Plan | None = None
    ) -> str:
        """The parent run: this command's unfinished sweep, resumed, or a new one. Resumed, its
        jobs left RUNNING by a launch that is gone are closed KILLED before new jobs start."""
        overrides = list(config.hydra.overrides.task)
        sweep_dir = str(config.hydra.sweep.dir)
        resumed = None if config.study.rerun else sweeps.newest_sweep(experiment_id, key)
        if resumed:
            closed = orphans.close_orphans(experiment_id, resumed, by="the resumed sweep")
            if closed:
                log.warning(
                    "closed %d run(s) KILLED that an earlier launch left RUNNING (its process "
                    "is gone): %s",
                    len(closed),
                    ", ".join(closed[:5]) + (" ..." if len(closed) > 5 else ""),
                )
            sweeps.reopen_sweep(resumed, sweep_dir)
            log.info("resuming sweep run %s: finished jobs are reused", resumed)
            return resumed
        swept = swept_keys(overrides, config.hydra.sweeper.get("params"))
        study_tags = settings.from_config(config).to_tags()
        if plan is not None:  # ours: the seeds the sweeper draws are varied too
            swept = list(dict.fromkeys([*swept, *plan.swept()]))
            study_tags.update(sweep_plan.describe(plan))
        return sweeps.start_sweep(
            experiment_id, sweep_dir, swept, overrides, to_yaml(config), study_tags, key
        )

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.progress is not None:
            self.progress.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.parent_id is None or self.experiment_id is None:
            return
        jobs = sweeps.jobs_frame(self.experiment_id, self.parent_id)
        summary = sweeps.sweep_counts(jobs)
        failed = summary[tags.N_FAILED]
        study_error = None
        if summary[tags.N_FINISHED]:  # none finished: the failures below say it all
            try:
                study_settings = settings.from_config(config)
                study = publish.publish(self.experiment_id, self.parent_id, study_settings, jobs)
                if study.orphaned:  # the study closed gone jobs: count them as they now are
                    jobs = sweeps.jobs_frame(self.experiment_id, self.parent_id)
                    summary = sweeps.sweep_counts(jobs)
                    failed = summary[tags.N_FAILED]
                words.print_study(study, self.parent_id)
                sweeps.clear_study_failure(self.parent_id)  # a resumed sweep's earlier one
            except Exception as err:  # the sweep's runs are safe; `ebm-study-report` retries
                study_error = f"{type(err).__name__}: {err}".splitlines()[0][:2000]
                ours = isinstance(err, UserError)  # a bad value needs no traceback
                log.error("stability study failed: %s", study_error, exc_info=not ours)
                sweeps.record_study_failure(self.parent_id, study_error)
        status = "FAILED" if failed or study_error else "FINISHED"
        sweeps.end_sweep(self.parent_id, status, summary)
        if self.claim is not None:
            self.claim.release()
        log.info(
            "sweep %s: %d finished, %d failed", self.parent_id, summary[tags.N_FINISHED], failed
        )
        self._report_warnings(jobs)
        if study_error:
            print(
                f"{PROG}: error: the stability study failed ({study_error}); the sweep run "
                f"{self.parent_id} is FAILED without it, its {summary[tags.N_FINISHED]} "
                f"finished runs are kept: `ebm-study-report --sweep {self.parent_id}` retries it",
                file=sys.stderr,
            )
        if failed:
            self._report_failures(jobs, failed)  # exits 1
        if study_error:
            raise SystemExit(1)  # Hydra would turn an exception into a warning and exit 0

    @staticmethod
    def _report_warnings(jobs) -> None:
        """What the libraries warned of while the jobs fit, each once, with how many runs."""
        if tags.WARNINGS not in jobs:
            return
        for message, count in library_warnings.tally(jobs[tags.WARNINGS]):
            log.warning("%d of %d runs: %s", count, len(jobs), message)

    def _report_failures(self, jobs, failed: int) -> None:
        bad = jobs[jobs["status"] != "FINISHED"]
        errors = sorted(set(bad[tags.ERROR].dropna())) if tags.ERROR in bad else []
        lines = [
            f"{PROG}: {failed} of {len(jobs)} jobs failed ({'; '.join(errors)}); "
            f"their runs are FAILED under sweep run {self.parent_id} in {store.describe_uri()}"
        ]
        lines += [f"  {name}" for name in bad["run_name"].head(10)]
        if failed > 10:
            lines.append(f"  ... and {failed - 10} more")
        lines.append("  Fix the values and run the same command again: finished jobs are reused.")
        print("\n".join(lines), file=sys.stderr)
        # Hydra turns a callback's exception into a warning and exits 0; SystemExit passes.
        raise SystemExit(1)
