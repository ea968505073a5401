"""Seeds on demand, in the launching process: fit settings through the configured Hydra launcher
in rounds, read each setting's stability from the store after every round, and give seeds only
to the settings whose interval is still wider than `study.ci_width` (seeds.py has the rule).

Every job is an ordinary sweep job (`commands.job.sweep_job`): a child of the parent, reused
when the same fit already FINISHED in this sweep, so a re-run of the command resumes here too.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from hydra.errors import HydraException
from omegaconf import DictConfig

from ebm_study import interrupts
from ebm_study.config import config_key, digest_run, setting
from ebm_study.errors import UserError
from ebm_study.measures import by_split, redundancy, stability
from ebm_study.rounding import interval
from ebm_study.settings import StudySettings
from ebm_study.study import compute, reference
from ebm_study.study.tables import rounded
from ebm_study.sweep import seeds
from ebm_study.sweep.plan import Plan
from ebm_study.tracking import artifacts, sweeps, tags

log = logging.getLogger(__name__)


@dataclass
class Setting:
    """One setting of a sweep and what its seeds have given so far."""

    overrides: list[str]  # its own values: ["model.learning_rate=0.05"]
    label: str  # learning_rate=0.05
    trial: int | None = None  # a search's trial number
    key: str = ""  # config_key, as its jobs tag it
    values: dict[str, Any] = field(default_factory=dict)  # the setting, for its runs' run_keys
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (split, model) seeds launched
    finished: dict[str, str] = field(default_factory=dict)  # run_key -> run_id, FINISHED
    runs: set[str] = field(default_factory=set)  # every run of its jobs, whatever its status
    failed: int = 0
    stopped: str | None = None
    measured: dict[str, float] = field(default_factory=dict)  # objective, ci, metric mean

    @property
    def width(self) -> float:
        m = self.measured
        return seeds.width(
            m.get("objective", math.nan), m.get("ci_low", math.nan), m.get("ci_high", math.nan)
        )


class Runner:
    """Fits settings on seeds on demand through `launch(overrides, first_job_number)`."""

    def __init__(
        self,
        launch: Callable[[Sequence[Sequence[str]], int], Any],
        compose: Callable[[list[str]], DictConfig],
        config: DictConfig,
        plan: Plan,
        study_settings: StudySettings,
        experiment_id: str,
        parent_id: str,
        at_once: int,
    ) -> None:
        self.launch, self.compose, self.config, self.plan = launch, compose, config, plan
        self.settings, self.experiment_id, self.parent_id = study_settings, experiment_id, parent_id
        self.batch = max(1, at_once)  # as many jobs as the launcher runs at once
        self.base = plan.base_seeds(config)
        self.job_number = 0
        self.importances: dict[str, pd.DataFrame] = {}  # run_id -> its importance table
        self.twins: pd.DataFrame | None = None
        self.metric: str | None = study_settings.metric
        self.all: list[Setting] = []  # every setting of this launch, for the parent's table
        self.before: list[dict[str, Any]] = []  # rows of settings an earlier launch finished

    # -- one setting's jobs ----------------------------------------------------------------

    def job_overrides(self, s: Setting, pair: tuple[int, int]) -> list[str]:
        return [
            *self.plan.space.fixed,
            *s.overrides,
            f"split_seed={pair[0]}",
            f"model_seed={pair[1]}",
        ]

    def prepare(self, s: Setting) -> None:
        """Compose the setting's job config once: its config_key, and the values its runs'
        run_keys are made of. A setting Hydra cannot compose is one line naming it."""
        try:
            cfg = self.compose(self.job_overrides(s, self.base))
        except HydraException as err:
            raise UserError(
                f"{' '.join(s.overrides) or 'the sweep'}: {err}".splitlines()[0]
            ) from None
        s.key, s.values = config_key(cfg), setting(cfg)
        self.all.append(s)

    def run(self, settings: list[Setting]) -> None:
        """Fit the settings round by round until every one has stopped (seeds.stop_reason)."""
        for s in settings:
            if not s.key:
                self.prepare(s)
        round_number = 0
        while True:
            active = [s for s in settings if s.stopped is None]
            if not active:
                return
            round_number += 1
            launched: list[tuple[Setting, tuple[int, int]]] = []
            for s in active:
                n = len(s.pairs)
                wanted = seeds.next_batch(self.plan.seeds, n, self.batch)
                pairs = seeds.pairs(self.plan.seeds.vary, *self.base)
                launched += [(s, p) for p in itertools.islice(pairs, n, n + wanted)]
            interrupts.check()
            self.launch([self.job_overrides(s, p) for s, p in launched], self.job_number)
            self.job_number += len(launched)
            self.collect(launched)
            for s in active:
                previous = s.width
                self.measure(s)
                s.stopped = seeds.stop_reason(
                    self.plan.seeds,
                    len(s.pairs),
                    s.failed,
                    not math.isnan(s.measured.get("objective", math.nan)),
                    s.width,
                    previous,
                )
                self.say(s, round_number)
            self.record()

    def collect(self, launched: list[tuple[Setting, tuple[int, int]]]) -> None:
        """What each launched job left in the store, by its run_key: FINISHED or not."""
        jobs = sweeps.jobs_frame(self.experiment_id, self.parent_id)
        self.jobs = jobs
        # One row a run_key (jobs_frame keeps the FINISHED attempt, else the newest).
        rows = jobs.reset_index().dropna(subset=[tags.RUN_KEY]).set_index(tags.RUN_KEY)
        for s, pair in launched:
            s.pairs.append(pair)
            key = digest_run(s.values, *pair)
            if key in rows.index:
                s.runs.add(str(rows.at[key, "run_id"]))
            if key in rows.index and rows.at[key, "status"] == "FINISHED":
                s.finished[key] = str(rows.at[key, "run_id"])
            else:  # FAILED, or no run at all (the job died before it could make one)
                s.failed += 1

    # -- reading a setting's stability -----------------------------------------------------

    def measure(self, s: Setting) -> None:
        """The setting's objective (Phi or Phi_C) and the interval the rule reads, and its mean
        metric, from its finished runs' importance tables in the store.

        The numbers are the study's own (measures/by_split.py): pairs of runs on different
        split seeds, the delete-a-split-seed jackknife's interval (by run when every run is on
        one split seed, study.vary=model), so the rule reads what the parent will report."""
        runs = list(s.finished.values())
        if not runs:
            s.measured = {}
            return
        new = [r for r in runs if r not in self.importances]
        if new:
            uris = self.jobs.loc[new, "artifact_uri"].to_dict()
            table = artifacts.load_importances(uris)
            for run_id, part in table.groupby("run_id"):
                self.importances[str(run_id)] = part
        scores = (
            compute.score_matrix(
                pd.concat([self.importances[r] for r in runs]), self.settings.terms
            )
            .reindex(runs)
            .fillna(0.0)
        )
        Z = stability.top_k(scores.to_numpy(float), self.settings.top_k)
        C = self.redundancy(runs[0], list(scores.columns))

        finished = self.jobs.loc[runs]
        design = compute.design_of(finished, runs)
        rule = by_split.nogueira(Z, design) if C is None else by_split.nogueira_corr(Z, C, design)
        self.metric = self.metric or compute.score_metric(finished)
        values = pd.to_numeric(finished.get(self.metric), errors="coerce")
        s.measured = {
            "objective": rule.value,
            "ci_low": rule.ci_low,
            "ci_high": rule.ci_high,
            "metric": by_split.mean(values.to_numpy(), design).value
            if values is not None
            else math.nan,
            "n_runs": len(runs),
        }

    def redundancy(self, run_id: str, terms: list[str]):
        """The near-twin matrix Phi_C needs (read once a sweep), or None for Phi alone."""
        if self.settings.objective != "nogueira_corr":
            return None
        if self.twins is None:
            self.twins = reference.near_twins(run_id, self.settings.corr_threshold)
        return None if self.twins is None else redundancy.redundancy_matrix(terms, self.twins)

    # -- telling people --------------------------------------------------------------------

    def say(self, s: Setting, round_number: int) -> None:
        m = s.measured
        name = "Phi_C" if self.settings.objective == "nogueira_corr" else "Phi"
        value = interval(m.get("objective"), m.get("ci_low"), m.get("ci_high")) if m else "n/a"
        where = f"trial {s.trial}: " if s.trial is not None else ""
        what = f"{where}{s.label or 'the setting'}: {name} {value} over {len(s.finished)} runs"
        if s.stopped is None:
            log.info("round %d: %s; width %.3g > %s: more seeds", round_number, what, s.width,
                     self.plan.seeds.ci_width)  # fmt: skip
        else:
            log.info("round %d: %s; stopped: %s after %d seeds", round_number, what, s.stopped,
                     len(s.pairs))  # fmt: skip

    def table(self) -> pd.DataFrame:
        """One row a setting: seeds used and why it stopped (`seeds_by_setting.json`)."""
        return pd.DataFrame([*self.before, *(row(s) for s in self.all)])

    def record(self) -> None:
        """The seeds table on the parent run, after every round: an interrupted sweep's says
        how far it got."""
        artifacts.write_table(self.parent_id, tags.SEEDS_BY_SETTING, rounded(self.table()))


def row(s: Setting) -> dict[str, Any]:
    """A setting's row of `seeds_by_setting.json`."""
    return {
        tags.CONFIG_KEY: s.key,
        "setting": s.label,
        "trial": s.trial if s.trial is not None else math.nan,
        "seeds_used": len(s.pairs),
        "seeds_failed": s.failed,
        "stopped": s.stopped or "running",
        "ci_width": s.width,
    }
