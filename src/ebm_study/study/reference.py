"""What the study reads on the rows of the data: the reference rows (a run's training rows, a
seeded sample of a large table), the near-twin features found on them, and the shape study
(every run's shapes on those rows, their agreement and pictures)."""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from ebm_study.fit import contributions, pipeline
from ebm_study.measures import redundancy, shapes
from ebm_study.study import shape_plots
from ebm_study.study.compute import Study
from ebm_study.tracking import models, runs, tags

log = logging.getLogger(__name__)

# The rows the study reads features on (near-twins, shapes): the first run's training rows, a
# seeded sample of them beyond this many. On 64,000 and 160,000 training rows, shape agreements
# from 5,000 were within 0.005 of all rows', Spearman correlations within 0.023 (about 0.003
# near the near-twin threshold of 0.9), at a fraction of the time and memory (README).
REFERENCE_ROWS = 5000
REFERENCE_SEED = 0
MAX_TERMS = 12  # pictures per sweep: the terms in some run's top k, most frequent first
MAX_RUNS = 50  # runs drawn and compared per term (the first, in the study's order)


@dataclass(frozen=True)
class Reference:
    """The rows the study reads features on, and where they come from."""

    X: pd.DataFrame  # at most REFERENCE_ROWS rows
    run_id: str  # the run whose training rows they are
    training_rows: int  # how many that run had
    target: str = ""  # the name of the column the runs predict: the shapes' axis names it

    def describe(self) -> str:
        """For the parent run's tag and the summary."""
        if len(self.X) == self.training_rows:
            return f"the {self.training_rows} training rows of run {self.run_id}"
        return (
            f"{len(self.X)} of the {self.training_rows} training rows of run {self.run_id} "
            f"(a sample, seed {REFERENCE_SEED})"
        )


@functools.lru_cache(maxsize=2)
def prepared_run(run_id: str) -> tuple[DictConfig, pipeline.Prepared]:
    """A run's logged config and its data as the run read it: read once a process, for the
    near-twins, the shapes and the per-row study (study/rows.py)."""
    config = runs.run_config(run_id)
    return config, pipeline.prepare(config)


@functools.lru_cache(maxsize=4)
def reference(run_id: str) -> Reference | None:
    """The training rows of one of the sweep's runs (its logged config says which data and
    split), a seeded sample of REFERENCE_ROWS of them on a larger table, on which features are
    correlated and shapes compared; None, with a warning, when the data cannot be read (a
    moved CSV): the study stands without what needs them."""
    try:
        config, data = prepared_run(run_id)
        X = data.split.X_train
        target = str(config.data.target)
    except Exception as err:  # noqa: BLE001 - the rest of the study stands without it
        log.warning("the sweep's data cannot be read again: %s: %s", type(err).__name__, err)
        return None
    total = len(X)
    if total > REFERENCE_ROWS:
        X = X.sample(n=REFERENCE_ROWS, random_state=REFERENCE_SEED)
    return Reference(X, run_id, total, target)


def load_models(finished: pd.DataFrame, run_ids: list[str], known: dict | None = None) -> dict:
    """run_id -> fitted model of each of these runs (`known`: models already read, None for
    one that could not be, so it is neither tried nor warned of twice); a model that cannot be
    read (its artifacts moved or deleted) is left out with a warning: the rest of the study
    stands without it."""
    known = known or {}
    out = {}
    for run_id in run_ids:
        if run_id in known:
            if known[run_id] is not None:
                out[run_id] = known[run_id]
            continue
        try:
            out[run_id] = models.load_estimator(finished.loc[run_id, "model_uri"])
        except Exception as err:  # noqa: BLE001 - one unreadable model must not sink the study
            log.warning("run %s: its model cannot be read: %s: %s", run_id, type(err).__name__, err)
    return out


def near_twins(run_id: str, threshold: float | None) -> pd.DataFrame | None:
    """The near-twin features of a sweep (None when grouping is off or the data unreadable):
    the study then has no correlation-aware measure."""
    ref = reference(run_id) if threshold is not None else None
    return None if ref is None else redundancy.groups(ref.X, threshold)


def shape_study(
    study: Study, jobs: pd.DataFrame, fitted: dict | None = None
) -> tuple[pd.DataFrame, dict, float]:
    """Per main term in some run's top k (at most MAX_TERMS): every run's shape on the
    reference rows, their agreement and a picture (over the categories of a categorical
    feature; a panel a class for 3 or more classes); the table, the figures by artifact path,
    and the mean agreement. Empty when the runs kept no models or the data is unreadable.
    `fitted`: models already read (run_id -> model; the group study's), read again only if
    missing."""
    finished = jobs[jobs["status"] == "FINISHED"]
    order = [r for r in study.ranks.index if pd.notna(finished["model_uri"].get(r))]
    ref = reference(str(finished.index[0])) if order else None
    empty = pd.DataFrame(columns=["term", "n_runs", "agreement", "reading"])
    if ref is None:
        return empty, {}, math.nan
    X = ref.X
    freq = study.topk_frequency
    terms = freq[(freq["kind"] == "main") & (freq["topk_frequency"] > 0)]["term"]
    terms = [t for t in terms if t in X.columns][:MAX_TERMS]
    if not terms:
        return empty, {}, math.nan
    fitted = load_models(finished, order[:MAX_RUNS], fitted)
    if not fitted:
        return empty, {}, math.nan
    # One pass of interpret's binning over the reference rows a run; every shape reads it.
    indexes = {r: contributions.bin_indexes(ebm, X) for r, ebm in fitted.items()}
    first = next(iter(fitted.values()))
    # A classifier's classes name its log-odds; a regressor has none, its shapes are in the
    # target's units.
    classes = [str(c) for c in first.classes_] if hasattr(first, "classes_") else None
    rows, figures = [], {}
    for term in terms:
        curves, settings = [], []
        for run_id, ebm in fitted.items():
            curve = contributions.contributions(ebm, term, indexes[run_id])
            if curve is not None:
                curves.append(curve)
                settings.append(study.run_settings.get(run_id, ""))
        value = shapes.agreement(np.array(curves)) if curves else math.nan
        rows.append(
            {
                "term": term,
                "n_runs": len(curves),
                "agreement": value,
                "reading": shapes.reading(value),
            }
        )
        name = term.replace("/", "_")
        # `a/b` and `a_b`, `Age` and `age` (one file where names ignore case): a picture each.
        while f"{tags.SHAPES_DIR}/{name}.png".lower() in {f.lower() for f in figures}:
            name += "_"
        figures[f"{tags.SHAPES_DIR}/{name}.png"] = shape_plots.shape_chart(
            term,
            X[term],
            curves,
            settings,
            value,
            categorical=contributions.is_categorical(first, term),
            classes=classes,
            target=ref.target,
        )
    table = pd.DataFrame(rows, columns=empty.columns) if rows else empty
    values = table["agreement"].astype(float)
    return table, figures, float(values.mean()) if values.notna().any() else math.nan
