"""Hydra's joblib launcher with warm workers (ebm_study.sweep.forked); conf/hydra/launcher/
joblib.yaml stands in for the plugin's own option with it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hydra_plugins.hydra_joblib_launcher import joblib_launcher


class JoblibLauncher(joblib_launcher.JoblibLauncher):
    """Its keys, its `n_jobs`; its workers forked from the launching process, unless a
    `hydra.launcher.backend` (`loky`) asks for Hydra's own fresh ones (which use loky whatever
    is named; its other joblib keys apply only there)."""

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Any:
        if self.joblib.get("backend") is not None:
            return super().launch(job_overrides, initial_job_idx)
        from ebm_study.sweep import forked

        return forked.launch(self, [list(o) for o in job_overrides], initial_job_idx)
