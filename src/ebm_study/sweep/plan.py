"""Which sweeper a multirun uses and what it will do, checked before the sweep's parent run or
any job exists: a bad search space, seed rule or sampler is one line and exit 2, nothing written.

`hydra/sweeper=adaptive`: a grid of settings, seeds on demand. `hydra/sweeper=stability_search`:
Optuna's multi-objective search, each trial's setting on seeds the same way. Anything else is
Hydra's basic sweeper (or a user's own), which this module leaves alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ebm_study import settings
from ebm_study.errors import UserError
from ebm_study.fit import validate
from ebm_study.settings import is_whole
from ebm_study.sweep import search_space, seeds
from ebm_study.sweep.search_space import Space
from ebm_study.sweep.seeds import SeedPlan
from ebm_study.tracking import tags

ADAPTIVE, SEARCH, BASIC = "adaptive", "stability_search", "basic"
_CLASSES = {"AdaptiveSweeper": ADAPTIVE, "StabilitySearchSweeper": SEARCH}
SAMPLERS = ("tpe", "nsga2", "random")


@dataclass(frozen=True)
class Plan:
    kind: str  # ADAPTIVE or SEARCH
    space: Space
    seeds: SeedPlan
    grid: list[list[str]]  # adaptive: one override list a setting
    n_trials: int = 0  # search
    sampler: str = "tpe"

    def swept(self) -> list[str]:
        """The keys the sweep's runs vary: its settings' and the seeds it draws."""
        return [*self.space.swept, *self.seeds.swept()]

    def base_seeds(self, cfg: DictConfig) -> tuple[int, int]:
        """The first (split, model) pair: the command line's seeds, else the config's."""
        return (
            self.space.seeds.get("split_seed", int(cfg.split_seed)),
            self.space.seeds.get("model_seed", int(cfg.model_seed)),
        )


def kind(config: DictConfig) -> str:
    """ADAPTIVE, SEARCH or BASIC (Hydra's, or a sweeper of the user's own)."""
    target = str(OmegaConf.select(config, "hydra.sweeper._target_", default="") or "")
    return _CLASSES.get(target.rsplit(".", 1)[-1], BASIC)


def plan(config: DictConfig) -> Plan | None:
    """What the configured sweeper will run, every value checked; None for the basic sweeper."""
    which = kind(config)
    if which == BASIC:
        return None
    study = config.study
    if study.get("objective") == "nogueira_corr" and study.get("corr_threshold") is None:
        raise UserError(
            "study.objective=nogueira_corr needs near-twin groups, but study.corr_threshold is "
            "null; set it (e.g. 0.9) or use study.objective=nogueira"
        )
    sweeper = config.hydra.sweeper
    who = f"hydra/sweeper={which}"
    space = search_space.parse(
        params_of(sweeper),
        list(config.hydra.overrides.task),
        who,
    )
    search_space.check_keys(space, config)
    check_values(space, config)
    if which == ADAPTIVE:
        return Plan(ADAPTIVE, space, seed_plan(config.study), search_space.grid(space, who))
    if not space.swept:
        raise UserError(
            f"{search_space.PARAMS} is empty: {who} needs keys to search, e.g. "
            "hydra.sweeper.params={model.learning_rate: 'tag(log, interval(0.005, 0.1))'}"
        )
    search_space.distributions(space)  # Optuna's own checks, before any job
    n_trials = sweeper.get("n_trials")
    if not is_whole(n_trials) or n_trials < 1:
        raise UserError(f"hydra.sweeper.n_trials={n_trials!r} must be a whole number >= 1")
    sampler = sweeper.get("sampler", "tpe")
    if sampler not in SAMPLERS:
        raise UserError(
            f"hydra.sweeper.sampler={sampler!r} is unknown; allowed: {', '.join(SAMPLERS)}"
        )
    for key in ("seed", "n_startup_trials", "population_size"):
        value = sweeper.get(key)
        if value is not None and (not is_whole(value) or value < (2 if "pop" in key else 0)):
            raise UserError(f"hydra.sweeper.{key}={value!r} must be a whole number")
    count = sweeper.get("seeds", "adaptive")
    if count == "adaptive":
        plan_seeds = seed_plan(config.study)
    elif is_whole(count) and count >= seeds.MIN_RUNS_FOR_INTERVAL:
        plan_seeds = SeedPlan.fixed(int(count), str(config.study.get("vary", "both")))
    else:
        raise UserError(
            f"hydra.sweeper.seeds={count!r} must be `adaptive` or a whole number >= "
            f"{seeds.MIN_RUNS_FOR_INTERVAL} (seeds each trial's setting is fitted on)"
        )
    return Plan(SEARCH, space, plan_seeds, [], n_trials=int(n_trials), sampler=sampler)


def params_of(sweeper: DictConfig) -> dict[str, Any]:
    params = sweeper.get("params")
    return {} if params is None else OmegaConf.to_container(params, resolve=True)


def seed_plan(study: DictConfig) -> SeedPlan:
    return seeds.from_config(OmegaConf.to_container(study, resolve=True))


def check_values(space: Space, config: DictConfig) -> None:
    """Each swept key's bounding values (an interval's ends, every choice) pass the same checks
    a job's config does, so `interval(-0.1, 0.1)` for a learning rate stops before any fit."""
    base = OmegaConf.masked_copy(config, [k for k in config if k != "hydra"])
    for key, values in search_space.extremes(space).items():
        for value in values:
            if isinstance(value, float) and not math.isfinite(value):
                raise UserError(f"{search_space.PARAMS}: {space.describe(key)}: not finite")
            cfg = search_space.with_value(base, key.lstrip("+~"), value)
            if cfg is None:
                break  # a config group: Hydra checks its options when it composes the jobs
            try:
                validate.check_config(cfg)
                settings.from_config(cfg)
            except UserError as err:
                raise UserError(f"{search_space.PARAMS}: {space.describe(key)}: {err}") from None


def describe(plan_: Plan) -> dict[str, Any]:
    """The plan as tags of the sweep's parent run."""
    out = {
        tags.SWEEPER: plan_.kind,
        tags.SEED_RULE: (
            f"{plan_.seeds.vary}: {plan_.seeds.min_seeds} to {plan_.seeds.max_seeds}, until the "
            f"interval is at most {plan_.seeds.ci_width} wide"
            if math.isfinite(plan_.seeds.ci_width)
            else f"{plan_.seeds.vary}: {plan_.seeds.min_seeds} a setting"
        ),
    }
    if plan_.kind == SEARCH:
        out[tags.SEARCH] = f"{plan_.n_trials} trials, sampler {plan_.sampler}"
    return out
