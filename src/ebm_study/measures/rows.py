"""Per-row stability across retrains: does each row keep its top reasons (the terms with the
largest absolute contributions to its score), and its prediction? Pure numpy.

Runs are drawn as in the rest of the study (measures/by_split.py): runs on one split seed
share their training rows, so a per-row share is the mean over split seeds of each split
seed's share, and a pairwise measure the mean over pairs of runs on *different* split seeds,
each split seed's runs weighted alike. The estimand is what two independent retrains (a fresh
split and model seed each) do to a row, averaged over the reference rows. Intervals are the
delete-a-split-seed jackknife, in closed form: every measure here is a mean over rows of a
pairwise mean over split seeds (a U-statistic over them, by_split.Sums), so each left-out
value follows from the split seeds' sums. With one split seed, runs are the units.

- `reason_stability`: per row, Nogueira's Phi of its top-r sets over pairs across split seeds
  (sets of one size r among d terms: the mean Kuncheva index, 1 = the same r reasons in every
  retrain, 0 = no more overlap than r terms drawn at random), averaged over rows.
- `reason_agreement`: the share of rows whose modal top reason is the top reason in at least
  90% of the runs (each split seed's runs weighted alike). It describes these runs: a row just
  below 90% in retrains clears the line by chance in a small sweep, so as an estimate of the
  retrains' share it leans high. A threshold of a share is not smooth in the runs, so the
  jackknife does not apply and no interval is given.
- `prediction_churn`, classification: per row, the chance that two retrains predict different
  classes (Milani Fard et al. 2016's churn between two models, averaged over pairs of
  retrains); regression: the spread of a row's prediction across retrains (the root mean over
  rows of half the mean squared difference over pairs) against each model's own standard
  error from its outer bags (fit/reasons.py: `predict_with_uncertainty`'s SD over the bags
  over sqrt(B - 1); root mean square over rows and runs, each split seed's runs weighted
  alike): 1 with the data held fixed, above 1 what the split of the rows adds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ebm_study.measures import intervals
from ebm_study.measures.by_split import Design
from ebm_study.measures.stability import Estimate

AGREE = 0.9  # reason_agreement: a row's top reason is the same in at least this share


def unit_shares(codes: np.ndarray, unit: np.ndarray, d: int) -> np.ndarray:
    """G x rows x d: within each unit, the share of its runs in which each code (0..d-1) is
    among a row's codes. `codes` is runs x rows x c (c codes a run and row, distinct)."""
    codes = np.asarray(codes)
    if codes.ndim == 2:
        codes = codes[:, :, None]
    M, n, c = codes.shape
    G = int(unit.max()) + 1
    size = np.bincount(unit, minlength=G).astype(float)
    W = np.zeros((G, n, d))
    g = np.broadcast_to(unit[:, None, None], codes.shape)
    i = np.broadcast_to(np.arange(n)[None, :, None], codes.shape)
    np.add.at(W, (g, i, codes), np.broadcast_to((1 / size[unit])[:, None, None], codes.shape))
    return W


def pair_sums(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the overlap kernel sum_t w_t w'_t between units' shares: over ordered pairs of
    distinct units (rows), and each unit's against the others (G x rows)."""
    S = W.sum(axis=0)  # rows x d
    per_unit = np.einsum("gnd,nd->gn", W, S) - np.einsum("gnd,gnd->gn", W, W)
    return per_unit.sum(axis=0), per_unit


def _what(design: Design) -> str:
    return "split seeds" if design.across else "runs"


def _mean_over_rows(value_of, total: np.ndarray, per_unit: np.ndarray, design: Design) -> Estimate:
    """mean over rows of value_of(a row's pairwise mean), with its jackknife interval."""
    G = per_unit.shape[0]
    if G < 2:
        return Estimate.undefined("needs at least 2 runs")
    value = float(np.mean(value_of(total / (G * (G - 1)))))
    if G < 3:
        return intervals.from_left_out(value, np.full(G, math.nan), _what(design))
    left = [np.mean(value_of((total - 2 * per_unit[g]) / ((G - 1) * (G - 2)))) for g in range(G)]
    return intervals.from_left_out(value, np.asarray(left, dtype=float), _what(design))


@dataclass(frozen=True)
class Reasons:
    """Every row's reasons over the runs (d terms, r reasons a row)."""

    top_share: np.ndarray  # rows x d: the share of retrains in which a term is the top reason
    in_top: np.ndarray  # rows x d: the share in which it is among the row's top r
    set_agreement: np.ndarray  # rows: Phi of the row's top-r sets (nan when r >= d)
    stability: Estimate  # reason_stability: set_agreement's mean over rows, its interval
    agreement: float  # reason_agreement: the share of rows with a top reason in >= AGREE

    @property
    def modal(self) -> np.ndarray:
        """rows: each row's modal top reason (a term's column)."""
        return np.argmax(self.top_share, axis=1)

    @property
    def modal_share(self) -> np.ndarray:
        return self.top_share.max(axis=1)


def kuncheva(overlap: np.ndarray, r: int, d: int) -> np.ndarray:
    """Kuncheva's index of two sets of size r among d terms with this mean overlap."""
    return (overlap * d - r * r) / (r * (d - r))


def reasons(top: np.ndarray, d: int, design: Design) -> Reasons:
    """From runs x rows x r: each run's r strongest terms for each row (columns among d)."""
    top = np.asarray(top)
    unit = design.unit()
    r = top.shape[2]
    W1 = unit_shares(top[:, :, 0], unit, d)
    W = unit_shares(top, unit, d)
    top_share, in_top = W1.mean(axis=0), W.mean(axis=0)
    modal_share = top_share.max(axis=1)
    agreement = float(np.mean(modal_share >= AGREE - 1e-9)) if len(modal_share) else math.nan
    if r >= d:
        none = Estimate.undefined(f"a row's top {r} are all of its {d} terms")
        return Reasons(top_share, in_top, np.full(top.shape[1], math.nan), none, agreement)
    total, per_unit = pair_sums(W)
    G = W.shape[0]
    per_row = kuncheva(total / (G * (G - 1)), r, d) if G >= 2 else np.full(len(total), math.nan)
    stability = _mean_over_rows(lambda o: kuncheva(o, r, d), total, per_unit, design)
    if stability.defined:  # Phi is at most 1: the t interval's upper end is not
        stability = Estimate(
            stability.value, stability.ci_low, min(stability.ci_high, 1.0), stability.note
        )
    return Reasons(top_share, in_top, per_row, stability, agreement)


@dataclass(frozen=True)
class Churn:
    """What retrains do to each row's prediction."""

    churn: Estimate  # prediction_churn (see the module's note)
    per_row: np.ndarray  # classification: a row's churn; regression: its spread across retrains
    modal: np.ndarray  # classification: each row's modal class (an index); regression: the mean
    modal_share: np.ndarray  # classification: the share of retrains predicting it (nan: reg.)
    near_boundary: Estimate | None = None  # classification: churn over rows near the boundary
    n_near_boundary: int = 0
    spread: float = math.nan  # regression: across retrains, the target's units
    bag_spread: float = math.nan  # regression: the models' own standard error, target's units


def clipped(est: Estimate) -> Estimate:
    """A share's interval within [0, 1], as the top-k frequency's (study/compute.py)."""
    low, high = max(est.ci_low, 0.0), min(est.ci_high, 1.0)
    return Estimate(est.value, low, high, est.note) if est.defined else est


def class_churn(
    predicted: np.ndarray, n_classes: int, design: Design, near: np.ndarray | None = None
) -> Churn:
    """From runs x rows of predicted classes (0..n_classes-1); `near`, rows near the decision
    boundary (a mask), whose churn is given apart."""
    unit = design.unit()
    W = unit_shares(np.asarray(predicted), unit, n_classes)
    total, per_unit = pair_sums(W)
    G = W.shape[0]
    shares = W.mean(axis=0)
    per_row = 1 - total / (G * (G - 1)) if G >= 2 else np.full(len(total), math.nan)
    churn = clipped(_mean_over_rows(lambda a: 1 - a, total, per_unit, design))
    boundary, n_near = None, 0
    if near is not None:
        n_near = int(np.sum(near))
        boundary = (
            clipped(_mean_over_rows(lambda a: 1 - a, total[near], per_unit[:, near], design))
            if n_near
            else Estimate.undefined("no row is near the decision boundary")
        )
    return Churn(churn, per_row, shares.argmax(axis=1), shares.max(axis=1), boundary, n_near)


def log_interval(value: float, left_out: np.ndarray, what: str) -> Estimate:
    """A ratio's jackknife interval on the log scale, back-transformed: a ratio is positive,
    and its sampling distribution skewed (the t interval of the ratio itself went below 0 on
    3 split seeds)."""
    if not value > 0 or not np.all(left_out > 0):
        return intervals.from_left_out(value, left_out, what)
    est = intervals.from_left_out(math.log(value), np.log(left_out), what)
    return Estimate(value, math.exp(est.ci_low), math.exp(est.ci_high), est.note)


def value_churn(predicted: np.ndarray, own_se: np.ndarray, design: Design) -> Churn:
    """From runs x rows of a regression's predictions and each run's own standard error of
    each (from its bags)."""
    y = np.asarray(predicted, dtype=float)
    unit = design.unit()
    G = int(unit.max()) + 1
    size = np.bincount(unit, minlength=G).astype(float)

    def by_unit(values: np.ndarray) -> np.ndarray:  # G x rows: each unit's mean
        out = np.zeros((G, values.shape[1]))
        np.add.at(out, unit, values)
        return out / size[:, None]

    mu, q, b = by_unit(y), by_unit(y * y), by_unit(np.asarray(own_se, dtype=float) ** 2)
    if G < 2:
        none = Estimate.undefined("needs at least 2 runs")
        return Churn(
            none, np.full(y.shape[1], math.nan), y.mean(axis=0), np.full(y.shape[1], math.nan)
        )
    Q, Mu = q.sum(axis=0), mu.sum(axis=0)
    # sum over units h != g of the mean of (y_a - y_b)^2, a in g, b in h: q_g + q_h - 2 mu_g mu_h
    per_unit = (G - 1) * q + (Q - q) - 2 * mu * (Mu - mu)
    total = per_unit.sum(axis=0)

    def ratio(pairs: float, total_sq: np.ndarray, bags: np.ndarray) -> float:
        spread = math.sqrt(max(float(np.mean(total_sq)) / pairs / 2, 0.0))
        bag = math.sqrt(float(np.mean(bags)))
        return spread / bag if bag > 0 else math.nan

    value = ratio(G * (G - 1), total, b.mean(axis=0))
    left = np.full(G, math.nan)
    if G >= 3:
        left = np.array(
            [
                ratio((G - 1) * (G - 2), total - 2 * per_unit[g], (b.sum(axis=0) - b[g]) / (G - 1))
                for g in range(G)
            ]
        )
    per_row = np.sqrt(np.maximum(total / (G * (G - 1)) / 2, 0.0))
    return Churn(
        log_interval(value, left, _what(design)),
        per_row,
        mu.mean(axis=0),
        np.full(y.shape[1], math.nan),
        spread=float(np.sqrt(np.mean(per_row**2))),
        bag_spread=float(np.sqrt(np.mean(b))),
    )
