"""The study's settings: how a sweep's runs are read. One validator, defaults only in conf/.

`top_k` (conf/config.yaml), `study.terms` and `study.rbo_p` (conf/study/default.yaml) are read
from the composed config, written as tags on the sweep's parent run so a later report reads
the runs the same way, and can be overridden on `ebm-study-report`'s command line. Each way in
goes through `check`, so a bad value gets the same one-line message wherever it comes from,
naming the key the user typed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

from omegaconf import DictConfig

from ebm_study.errors import UserError
from ebm_study.metric_names import NAMES
from ebm_study.tracking import tags

TERMS = ("all", "mains")  # all: pair terms compete for the top k; mains: main effects only

# How each setting is spelled in the config (the default) and where it is stored on a run.
CONFIG_NAMES = {
    "top_k": "top_k",
    "terms": "study.terms",
    "rbo_p": "study.rbo_p",
    "corr_threshold": "study.corr_threshold",
    "objective": "study.objective",
    "metric": "study.metric",
    "min_stability": "study.min_stability",
    "reliable": "study.reliable",
    "near_best": "study.near_best",
    "top_reasons": "study.top_reasons",
    "reference_rows": "study.reference_rows",
    "reference": "study.reference",
}
TAGS = {
    "top_k": tags.STUDY_TOP_K,
    "terms": tags.STUDY_TERMS,
    "rbo_p": tags.STUDY_RBO_P,
    "corr_threshold": tags.STUDY_CORR_THRESHOLD,
    "objective": tags.STUDY_OBJECTIVE,
    "metric": tags.STUDY_METRIC,
    "min_stability": tags.STUDY_MIN_STABILITY,
    "reliable": tags.STUDY_RELIABLE,
    "near_best": tags.STUDY_NEAR_BEST,
    "top_reasons": tags.STUDY_TOP_REASONS,
    "reference_rows": tags.STUDY_REFERENCE_ROWS,
    "reference": tags.STUDY_REFERENCE,
}
# The stability a search maximises and the Pareto front plots: Nogueira's Phi, or Phi_C, which
# counts swaps among near-twin features as agreement.
OBJECTIVES = ("nogueira", "nogueira_corr")


@dataclass(frozen=True)
class StudySettings:
    """top_k terms count as "on top"; terms=mains leaves pair terms out; rbo_p is rank-biased
    overlap's persistence (0.8: about 86% of the weight on the top 5); features whose absolute
    Spearman correlation reaches corr_threshold are near-twins (None: no grouping).

    For the Pareto front of accuracy and stability (and a search's objectives): `objective` is
    the stability measure, `metric` the accuracy (None: the sweep's score, f1 or r2), and the
    recommended setting is the most accurate on the front whose stability reaches
    `min_stability` (None: any).

    What holds (study/findings.py): a term is reliably in the top k when the 95% lower bound
    of its top-k frequency reaches `reliable`; the near-best settings are those whose score
    the paired test cannot tell from the best's, or, with `near_best`, those within that much
    of it.

    The per-row study (study/rows.py): each reference row's `top_reasons` strongest terms
    across the runs, on the data set's rows (at most `reference_rows`, a seeded sample above)
    or those of the CSV or Parquet file `reference`."""

    top_k: int
    terms: str
    rbo_p: float
    corr_threshold: float | None = 0.9
    objective: str = "nogueira"
    metric: str | None = None
    min_stability: float | None = None
    reliable: float = 0.9
    near_best: float | None = None
    top_reasons: int = 3
    reference_rows: int = 1000
    reference: str | None = None

    def __post_init__(self) -> None:
        check(dataclasses.asdict(self))

    def replace(self, names: Mapping[str, str] = CONFIG_NAMES, **changes: object) -> StudySettings:
        """These settings with some changed (a None change keeps the value); a bad value's
        message uses `names`, e.g. a command line's `--top-k`."""
        changes = {k: v for k, v in changes.items() if v is not None}
        check(changes, names)
        if "reference" in changes:
            changes["reference"] = absolute(changes["reference"])
        return dataclasses.replace(self, **changes)

    def to_tags(self) -> dict[str, str]:
        """As tags of a sweep's parent run."""
        return {TAGS[key]: str(value) for key, value in dataclasses.asdict(self).items()}


def check(values: Mapping[str, object], names: Mapping[str, str] = CONFIG_NAMES) -> None:
    """Raise a UserError naming the first bad value and what is allowed."""
    for key, value in values.items():
        problem = _problem(key, value)
        if problem:
            raise UserError(f"{names[key]}={value!r} {problem}")
    # Phi_C counts swaps within near-twin groups: without groups there is no Phi_C to read, and
    # the seed rule and a search would silently read Phi instead.
    if values.get("objective") == "nogueira_corr" and values.get("corr_threshold", 0.9) is None:
        raise UserError(
            f"{names['objective']}='nogueira_corr' needs near-twin groups, but "
            f"{names['corr_threshold']}=None switches them off: set it (0.9), or "
            f"{names['objective']}=nogueira"
        )


def is_whole(value: object) -> bool:
    """A whole number, not a bool (YAML's `true` is not a count). fit/validate.py uses it too."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def is_finite(value: object) -> bool:
    """A finite real number, not a bool. fit/validate.py uses it too."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _problem(key: str, value: object) -> str | None:
    if key == "top_k":
        return None if is_whole(value) and value >= 1 else "must be a whole number >= 1"
    if key == "terms":
        return None if value in TERMS else f"is unknown; allowed: {', '.join(TERMS)}"
    if key == "rbo_p":
        ok = is_finite(value) and 0 < value < 1
        return None if ok else "must be a number between 0 and 1 (exclusive)"
    if key == "corr_threshold":
        ok = value is None or (is_finite(value) and 0 < value <= 1)
        return None if ok else "must be a number in (0, 1], or null to switch grouping off"
    if key == "objective":
        return None if value in OBJECTIVES else f"is unknown; allowed: {', '.join(OBJECTIVES)}"
    if key == "metric":
        known = sorted({m for names in NAMES.values() for m in names})
        ok = value is None or value in known
        return None if ok else f"is not a metric runs log; allowed: {', '.join(known)}, or null"
    if key == "min_stability":
        ok = value is None or (is_finite(value) and -1 <= value <= 1)
        return None if ok else "must be a number between -1 and 1, or null"
    if key == "reliable":
        ok = is_finite(value) and 0 < value < 1
        return None if ok else "must be a number between 0 and 1 (exclusive)"
    if key == "near_best":
        ok = value is None or (is_finite(value) and value >= 0)
        return None if ok else "must be a number >= 0 (in the metric's units), or null"
    if key == "top_reasons":
        return None if is_whole(value) and value >= 1 else "must be a whole number >= 1"
    if key == "reference_rows":
        return None if is_whole(value) and value >= 2 else "must be a whole number >= 2"
    if key == "reference":
        ok = value is None or (isinstance(value, str) and value.strip() != "")
        return None if ok else "must be the path of a CSV or Parquet file, or null"
    raise KeyError(f"no study setting {key!r}")


def absolute(path: object) -> object:
    """A file's path made absolute where it is given (a relative one would name another file,
    or none, when the study is recomputed elsewhere): as the parent run's tag records it."""
    if isinstance(path, str) and path.strip():
        return str(Path(path).expanduser().resolve())
    return path


def from_config(cfg: DictConfig) -> StudySettings:
    """The settings a composed config gives, checked as they are (never coerced)."""
    return StudySettings(
        top_k=cfg.top_k,
        terms=cfg.study.terms,
        rbo_p=cfg.study.rbo_p,
        corr_threshold=cfg.study.get("corr_threshold", 0.9),
        objective=cfg.study.get("objective", "nogueira"),
        metric=cfg.study.get("metric"),
        min_stability=cfg.study.get("min_stability"),
        reliable=cfg.study.get("reliable", 0.9),
        near_best=cfg.study.get("near_best"),
        top_reasons=cfg.study.get("top_reasons", 3),
        reference_rows=cfg.study.get("reference_rows", 1000),
        reference=absolute(cfg.study.get("reference")),
    )


def from_tags(run_tags: Mapping[str, str], fallback: Callable[[], StudySettings]) -> StudySettings:
    """The settings a sweep's parent run was studied with; `fallback()` gives any it does not
    record (sweeps made by other tools)."""
    parse = {
        "top_k": int,
        "terms": str,
        "rbo_p": float,
        "corr_threshold": lambda v: None if v == "None" else float(v),
        "objective": str,
        "metric": lambda v: None if v == "None" else v,
        "min_stability": lambda v: None if v == "None" else float(v),
        "reliable": float,
        "near_best": lambda v: None if v == "None" else float(v),
        "top_reasons": int,
        "reference_rows": int,
        "reference": lambda v: None if v == "None" else v,
    }
    values = {key: parse[key](run_tags[tag]) for key, tag in TAGS.items() if tag in run_tags}
    missing = {key: getattr(fallback(), key) for key in TAGS if key not in values}
    return StudySettings(**values, **missing)
