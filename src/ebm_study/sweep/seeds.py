"""Seeds on demand: which seeds a setting gets next, and when it has had enough. Pure.

A setting is fitted on seeds in batches until its top-k stability is known to `ci_width`
(the width of its 95% interval) or it reached `max_seeds`, never fewer than `min_seeds`.
`hydra/sweeper=adaptive` applies this to every setting of a grid, `hydra/sweeper=
stability_search` to every trial's setting.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ebm_study.errors import UserError
from ebm_study.measures.intervals import MIN_RUNS_FOR_INTERVAL
from ebm_study.settings import is_finite, is_whole

VARY = ("split", "model", "both")  # which seed a setting's runs vary
# Why a setting got no more seeds: its interval reached the width; the cap; a job failed (more
# seeds of a broken setting only fail again); the measure is undefined (top_k >= the terms).
CONVERGED, MAX_SEEDS, FAILED, UNDEFINED = "converged", "max_seeds", "failed", "undefined"
MODEL_SEEDS_PER_SPLIT = 2  # vary=both: pairs (split s, model m) for m < 2, s = 0, 1, 2, ...


@dataclass(frozen=True)
class SeedPlan:
    """How many seeds a setting gets: from min_seeds, in batches, until its interval is at
    most ci_width wide or it has max_seeds; `vary` says which seed changes."""

    ci_width: float = 0.15
    min_seeds: int = 4
    max_seeds: int = 20
    vary: str = "both"

    def __post_init__(self) -> None:
        check(
            {
                "ci_width": self.ci_width,
                "min_seeds": self.min_seeds,
                "max_seeds": self.max_seeds,
                "vary": self.vary,
            }
        )

    @classmethod
    def fixed(cls, n: int, vary: str = "both") -> SeedPlan:
        """Exactly n seeds a setting, whatever the width (a search's `seeds: <n>`)."""
        return cls(ci_width=math.inf, min_seeds=n, max_seeds=n, vary=vary)

    def swept(self) -> list[str]:
        """The config keys this plan varies."""
        return {
            "split": ["split_seed"],
            "model": ["model_seed"],
            "both": ["split_seed", "model_seed"],
        }[self.vary]


def check(values: Mapping[str, object]) -> None:
    """Raise a UserError naming the first bad value (as `study.<name>`) and what is allowed."""
    v = dict(values)
    low = MIN_RUNS_FOR_INTERVAL
    width = v.get("ci_width", 1.0)
    if not ((is_finite(width) or width == math.inf) and width > 0):  # inf: a fixed count
        raise UserError(f"study.ci_width={v['ci_width']!r} must be a number > 0")
    if "min_seeds" in v and not (is_whole(v["min_seeds"]) and v["min_seeds"] >= low):
        raise UserError(
            f"study.min_seeds={v['min_seeds']!r} must be a whole number >= {low} (an interval "
            f"needs {low} runs)"
        )
    if "max_seeds" in v and not (
        is_whole(v["max_seeds"]) and v["max_seeds"] >= v.get("min_seeds", low)
    ):
        raise UserError(
            f"study.max_seeds={v['max_seeds']!r} must be a whole number >= study.min_seeds "
            f"({v.get('min_seeds', low)})"
        )
    if "vary" in v and v["vary"] not in VARY:
        raise UserError(f"study.vary={v['vary']!r} is unknown; allowed: {', '.join(VARY)}")


def from_config(study: Mapping[str, object]) -> SeedPlan:
    """The plan a composed config's `study` node gives, checked as it is."""
    return SeedPlan(
        ci_width=study.get("ci_width", 0.15),
        min_seeds=study.get("min_seeds", 4),
        max_seeds=study.get("max_seeds", 20),
        vary=study.get("vary", "both"),
    )


def pairs(vary: str, split_seed: int = 0, model_seed: int = 0) -> Iterator[tuple[int, int]]:
    """(split seed, model seed) pairs, none repeated, from the config's seeds upwards.

    vary=both walks split seeds, two model seeds each: (0,0), (0,1), (1,0), (1,1), ... so every
    prefix of four or more holds runs that differ only by split seed and runs that differ only
    by model seed, and the study can still attribute the churn to one or the other; splits,
    which drive the churn more on our data, get the larger share. The order is fixed, so the
    same command asks for the same fits again and a resumed sweep reuses them.
    """
    i = 0
    while True:
        if vary == "split":
            yield split_seed + i, model_seed
        elif vary == "model":
            yield split_seed, model_seed + i
        else:
            s, m = divmod(i, MODEL_SEEDS_PER_SPLIT)
            yield split_seed + s, model_seed + m
        i += 1


def stop_reason(
    plan: SeedPlan,
    n_used: int,
    n_failed: int,
    defined: bool,
    width: float,
    previous: float = math.nan,
) -> str | None:
    """Why a setting gets no more seeds, or None to give it another batch. `n_used` counts its
    jobs launched (failed ones too), `width` is its stability interval's now and `previous` at
    the look before (nan: none yet).

    A width must be at most `ci_width` at two looks in a row: a rule that stops the first time
    the width dips under the target reports an interval that covers too seldom (optional
    stopping: 92% for a 95% interval in the simulation of tests/sweep/test_seeds.py, 94.5% with
    two looks)."""
    if n_failed:
        return FAILED
    if not defined and n_used >= plan.min_seeds:
        return UNDEFINED
    if (
        n_used >= plan.min_seeds
        and _within(width, plan)
        and (
            _within(previous, plan) or math.isinf(plan.ci_width)  # a fixed count reads no width
        )
    ):
        return CONVERGED
    if n_used >= plan.max_seeds:
        return MAX_SEEDS
    return None


def _within(width: float, plan: SeedPlan) -> bool:
    return not math.isnan(width) and width <= plan.ci_width


def width(value: float, low: float, high: float) -> float:
    """The interval's width the rule reads; nan (no interval yet) for one of zero width around
    a value below 1: with few runs every left-out value can coincide (three runs whose pairs
    share as many terms) without the sets agreeing. Only identical sets (Phi 1) are certain."""
    spread = high - low
    if math.isnan(spread) or (spread <= 1e-12 and value < 1 - 1e-12):
        return math.nan
    return spread


def next_batch(plan: SeedPlan, n_used: int, batch: int) -> int:
    """How many seeds a setting gets in its next round: min_seeds first, then one batch (as
    many jobs as the launcher runs at once), never past max_seeds."""
    want = plan.min_seeds - n_used if n_used < plan.min_seeds else max(1, batch)
    return max(0, min(want, plan.max_seeds - n_used))
