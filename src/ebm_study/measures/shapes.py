"""Do the runs' shape functions agree? Each run's contributions of a term on the same reference
rows (fit/contributions.py reads them), compared pairwise, and the agreement in words. Pure
numpy: curves in, a number out.

Agreement of term t between runs i and j is the Pearson correlation of their contributions
f_i(x_r), f_j(x_r) over the reference rows x_r: a correlation over the data's own points, so
each region of the feature (each category of a categorical one) counts as much as it holds
data (the data-density weighting), and the EBM's arbitrary offset of a shape drops out with
the means. 1: the same form, -1: the mirror image, near 0: unrelated. A run whose term is
constant (it never split on it) has no form; its pairs are left out.

With three or more classes a term has one contribution a class, and only their differences
matter (adding the same function to every class's scores leaves every probability as it was):
contributions come centred over the classes, the agreement is computed class by class and
averaged over the classes.
"""

from __future__ import annotations

import math

import numpy as np


def agreement(curves: np.ndarray) -> float:
    """Mean pairwise Pearson correlation of the rows of `curves` (runs x data points), or the
    mean over classes of it (runs x data points x classes); nan with fewer than two
    non-constant curves (in every class)."""
    curves = np.asarray(curves, dtype=float)
    if curves.ndim == 3:
        by_class = [agreement(curves[:, :, c]) for c in range(curves.shape[2])]
        defined = [v for v in by_class if not math.isnan(v)]
        return float(np.mean(defined)) if defined else math.nan
    formed = curves[np.std(curves, axis=1) > 1e-12]
    if len(formed) < 2:
        return math.nan
    R = np.corrcoef(formed)
    upper = R[np.triu_indices(len(formed), k=1)]
    return float(np.mean(upper))


def reading(value: float) -> str:
    """Words for an agreement."""
    if math.isnan(value):
        return "undefined: fewer than two runs give the term a form"
    if value >= 0.9:
        return "the same form in every run"
    if value >= 0.7:
        return "a similar form, details differ"
    if value >= 0.3:
        return "forms differ: read this shape with care"
    return "no common form"
