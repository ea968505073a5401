"""`hydra/launcher=joblib` (experiment=quick's) with its workers forked from the launching
process (hydra_plugins/ebm_study_sweepers/launchers.py, conf/hydra/launcher/joblib.yaml).

Hydra's joblib launcher always starts loky's fresh processes, and each imports MLflow,
interpret, scikit-learn and matplotlib again before its first fit: 3-4 s a worker here, the
largest part of a small sweep's fixed cost. The launching process has imported all of them
already (the sweep's callback and its study need them), so a fork starts warm in milliseconds.
The jobs run exactly as Hydra's launcher runs them (its `execute_job`), in as many workers as
its `n_jobs` says; the children are forked after the jobs are set out here, so nothing is
pickled on the way in. What makes a fork safe: tracking/store.py (a child's own database
connections), tracking/launches.py (a child lets go of the launch's lock file), liveness.UNFORKED
(no lock of the launch's own threads held at the fork), `_worker` (a worker ends with the
launch; a fit's own loky pool is the worker's). A stop signal or a dead worker stops them all.
Any `hydra.launcher.backend` (`loky`) runs Hydra's own launcher instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import multiprocessing.util
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, filter_overrides, setup_globals
from hydra_plugins.hydra_joblib_launcher._core import execute_job
from joblib.externals import cloudpickle
from joblib.externals.loky import reusable_executor

from ebm_study.fit import model
from ebm_study.sweep.launchers import parallel_jobs

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1  # prctl(2)
_JOBS: list[tuple[Any, ...]] = []  # execute_job's arguments, for the forked workers


def launch(launcher: Any, job_overrides: list[list[str]], initial_job_idx: int) -> list[Any]:
    """Run a batch of jobs in forked workers; their JobReturns, in the batch's order."""
    setup_globals()
    config = launcher.config
    configure_log(config.hydra.hydra_logging, config.hydra.verbose)
    Path(str(config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
    workers = max(1, min(parallel_jobs(config.hydra.launcher, model.cores()), len(job_overrides)))
    log.info("Forking %d workers for %d jobs", workers, len(job_overrides))
    for idx, overrides in enumerate(job_overrides):
        log.info("\t#%d : %s", idx, " ".join(filter_overrides(overrides)))
    state = Singleton.get_state()
    _JOBS[:] = [
        (
            initial_job_idx + i,
            list(o),
            launcher.hydra_context,
            config,
            launcher.task_function,
            state,
        )
        for i, o in enumerate(job_overrides)
    ]
    fork = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(workers, fork, initializer=_worker, initargs=(os.getpid(),))
    try:
        runs = [cloudpickle.loads(r) for r in pool.map(_run, range(len(_JOBS)))]
        pool.shutdown()
    except BaseException as err:
        # A stop signal to this process alone (a scheduler's `kill`), a dead worker: the other
        # workers stop too, each closing its run KILLED (the stop handler they inherited), and
        # no queued job starts. The launch's exit closes what is left and the parent KILLED.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        if isinstance(err, BrokenProcessPool):
            print(
                "ebm-study: a worker process died while it ran a job (killed, or out of "
                "memory); the runs in flight are closed KILLED. Give the jobs more memory (fewer "
                "at once: hydra.launcher.n_jobs) and run the same command again: it resumes",
                file=sys.stderr,
            )
            raise SystemExit(1) from None
        raise
    finally:
        _JOBS.clear()
    assert all(isinstance(r, JobReturn) for r in runs)
    return runs


def _worker(launcher_pid: int) -> None:
    """A worker's start, in the fork. It ends with the launching process however that ends
    (Linux: the kernel sends it SIGTERM), instead of waiting for jobs forever. A loky pool the
    launch had (a fit's `n_jobs`) is not the worker's: a fit of its own makes its own, shut
    down when the worker ends (loky would wait out its 300 s idle timeout)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != launcher_pid:  # it ended before the line above
        os._exit(1)
    reusable_executor._executor = None
    reusable_executor._executor_kwargs = None
    multiprocessing.util.Finalize(None, _end_loky, exitpriority=100)


def _end_loky() -> None:
    executor = reusable_executor._executor
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def _run(i: int) -> bytes:
    try:
        # As loky sends it back: a job's config holds the plugins' schema classes, which
        # Hydra's plugin scan loads a second time, so plain pickle cannot find them by name.
        return cloudpickle.dumps(execute_job(*_JOBS[i]))
    except KeyboardInterrupt:
        # A stop signal (Ctrl-C, the launch's own end): the job closed its run KILLED; the
        # worker ends rather than wait for another job, which the pool's loop would.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
