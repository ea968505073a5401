"""What a sweep of settings may vary, read from Hydra's override grammar. Pure but for Optuna's
distribution classes.

The keys and values come as Hydra users write them, in `hydra.sweeper.params` or on the command
line (the command line wins for a key in both): `choice(2, 3, 4)` or `2,3,4`, `range(1, 5)`,
`interval(0.005, 0.1)`, `tag(log, interval(0.005, 0.1))` for a log scale, `tag(int,
interval(2, 64))` for whole numbers, and plain values, which every job gets. A grid
(`hydra/sweeper=adaptive`) takes the discrete ones; a search (`hydra/sweeper=stability_search`)
hands each to Optuna as a distribution.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, Override, RangeSweep
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf

from ebm_study.config import SEEDS
from ebm_study.errors import UserError

PARAMS = "hydra.sweeper.params"


@dataclass(frozen=True)
class Space:
    """`fixed`: overrides every job gets (`key=value`); `swept`: the keys a sweep varies and
    their parsed override; `seeds`: the seeds the command line fixes (the first of the pairs)."""

    fixed: list[str] = field(default_factory=list)
    swept: dict[str, Override] = field(default_factory=dict)
    seeds: dict[str, int] = field(default_factory=dict)

    def describe(self, key: str) -> str:
        """The entry as the user wrote it, for error messages."""
        return str(self.swept[key].input_line)


def parse(params: Mapping[str, object] | None, arguments: Iterable[str], who: str) -> Space:
    """The sweep's space: `hydra.sweeper.params` first, the command line over it. `who` names
    the sweeper in messages. Seeds are never part of it: the sweeper draws them."""
    lines = [f"{k}={v}" for k, v in (params or {}).items()]
    lines += list(arguments)
    try:
        overrides = OverridesParser.create().parse_overrides(lines)
    except HydraException as err:
        raise UserError(f"{PARAMS}: {one_line(err)}") from None
    fixed: dict[str, str] = {}
    swept: dict[str, Override] = {}
    for override in overrides:
        key = override.get_key_element()
        fixed.pop(key, None)
        swept.pop(key, None)
        if override.is_sweep_override():
            if override.key_or_group in SEEDS:
                raise UserError(
                    f"{override.input_line}: {who} draws the seeds "
                    "itself (study.vary, study.min_seeds, study.max_seeds); give one value or none"
                )
            if override.value_type is not None and override.value_type.name == "GLOB_CHOICE_SWEEP":
                raise UserError(f"{key}=glob(...): {who} takes choice, range or interval")
            swept[key] = override
        else:
            fixed[key] = f"{key}={override.get_value_element_as_str()}"
    seeds = {}
    for seed in SEEDS:
        if seed in fixed:
            value = parsed_value(fixed.pop(seed))
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise UserError(f"{seed}={value!r} must be a whole number >= 0")
            seeds[seed] = value
    return Space(list(fixed.values()), swept, seeds)


def parsed_value(line: str) -> Any:
    return OverridesParser.create().parse_override(line).value()


def one_line(err: Exception) -> str:
    """Hydra's and Optuna's messages, on one line."""
    return " ".join(str(err).split())


def grid(space: Space, who: str) -> list[list[str]]:
    """Every combination of the swept values, as the basic sweeper makes it: one override list
    a setting. A continuous range cannot be a grid."""
    lists = []
    for key, override in space.swept.items():
        if not override.is_discrete_sweep():
            raise UserError(
                f"{space.describe(key)}: {who} runs a grid of given values (choice, range, or "
                "a,b,c); a continuous interval needs hydra/sweeper=stability_search"
            )
        lists.append([f"{key}={v}" for v in override.sweep_string_iterator()])
    return [list(combo) for combo in itertools.product(*lists)]


def distributions(space: Space) -> dict[str, Any]:
    """Optuna's distribution for each swept key: choice -> categorical, range -> integers (or
    floats) with its step, interval -> a continuous range (`log` tag: log scale; `int` tag:
    whole numbers). Optuna's own checks (a low above its high, a log range from 0) become one
    line naming the entry."""
    from optuna.distributions import (  # on use: Optuna costs its import only to a search
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out = {}
    for key, override in space.swept.items():
        value = override.value()
        try:
            if isinstance(value, ChoiceSweep):
                out[key] = CategoricalDistribution(list(value.list))
            elif isinstance(value, RangeSweep):
                log = "log" in value.tags
                whole = all(isinstance(v, int) for v in (value.start, value.stop, value.step))
                if whole:  # Hydra's range stops before `stop`, as Python's does
                    high = value.start + (len(range(value.start, value.stop, value.step)) - 1) * (
                        value.step
                    )
                    out[key] = IntDistribution(
                        value.start, high, log=log, step=1 if log else value.step
                    )
                else:
                    n = math.ceil((value.stop - value.start) / value.step - 1e-9)
                    high = value.start + (n - 1) * value.step
                    out[key] = FloatDistribution(value.start, high, step=value.step)
            elif isinstance(value, IntervalSweep):
                log = "log" in value.tags
                if "int" in value.tags:
                    out[key] = IntDistribution(int(value.start), int(value.end), log=log)
                else:
                    out[key] = FloatDistribution(float(value.start), float(value.end), log=log)
            else:
                raise UserError(f"{space.describe(key)}: not a choice, range or interval")
        except ValueError as err:
            raise UserError(f"{PARAMS}: {space.describe(key)}: {one_line(err)}") from None
    return out


def readable(value: Any) -> Any:
    """A suggested value as the job gets it: floats to 3 significant digits, so a run's name
    and its setting's label say what was fitted (0.0123, not 0.012345678901234)."""
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.3g}")
    return value


def overrides_for(params: Mapping[str, Any]) -> list[str]:
    """`key=value` overrides of one suggested setting."""
    return [f"{key}={readable(value)}" for key, value in params.items()]


def extremes(space: Space) -> dict[str, list[Any]]:
    """Per swept key, the values that bound it (an interval's ends, a range's first and last,
    every choice): what a validator checks before any job runs."""
    out: dict[str, list[Any]] = {}
    for key, override in space.swept.items():
        value = override.value()
        if isinstance(value, IntervalSweep):
            ends = [value.start, value.end]
            out[key] = [int(v) for v in ends] if "int" in value.tags else ends
        elif isinstance(value, RangeSweep):
            values = list(override.sweep_iterator())
            out[key] = [values[0], values[-1]] if values else []
        elif isinstance(value, ChoiceSweep):
            out[key] = list(value.list)
    return out


def with_value(cfg: DictConfig, key: str, value: Any) -> DictConfig | None:
    """A copy of the config with one value set; None when `key` names a config group (its
    options are checked when Hydra composes the job) rather than a value."""
    node = OmegaConf.select(cfg, key, default=None, throw_on_missing=False)
    if isinstance(node, DictConfig):
        return None
    copy = cfg.copy()
    OmegaConf.update(copy, key, value, force_add=False)
    return copy


def check_keys(space: Space, cfg: DictConfig) -> None:
    """Every swept key is a value or a config group of the config."""
    for key in space.swept:
        name = key.lstrip("+~")
        parent, _, last = name.rpartition(".")
        node = OmegaConf.select(cfg, parent, default=None) if parent else cfg
        group = "/" in name or key.startswith("+")  # a group option, or a key added on purpose
        # keys(), not `in node`: OmegaConf says a key whose value is still ??? is not in it.
        if not group and not (isinstance(node, DictConfig) and last in node.keys()):  # noqa: SIM118
            raise UserError(
                f"{PARAMS}: {space.describe(key)}: {name} is not a key of the config "
                "(ebm-study --cfg job lists them)"
            )
