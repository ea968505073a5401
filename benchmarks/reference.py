"""Do the study's 5,000 sampled reference rows tell what all training rows tell?

Four fits each (split seeds 0-3, 2 bags, 1,500 rounds) of benchmarks/synthetic.py's houses
(80,000 rows) and flights (200,000, without its ID and dates); for every term, the shape
agreement over all of the first split's training rows and over the study's seeded sample of
them (report.REFERENCE_ROWS), and the largest change of any Spearman correlation. About 3
minutes:  .venv/bin/python benchmarks/reference.py
"""

from __future__ import annotations

import warnings

import numpy as np
import synthetic
from interpret.glassbox import ExplainableBoostingClassifier, ExplainableBoostingRegressor
from sklearn.model_selection import train_test_split

from ebm_study.fit import contributions
from ebm_study.measures import shapes
from ebm_study.study.reference import REFERENCE_ROWS, REFERENCE_SEED

TABLES = {
    "houses": (80_000, "price", ["zip", "condition"], ExplainableBoostingRegressor),
    "flights": (200_000, "delayed", ["carrier", "origin", "dest"], ExplainableBoostingClassifier),
}


def main() -> None:
    warnings.simplefilter("ignore")  # interpret's missing-values advice, once a fit
    for name, (rows, target, categorical, estimator) in TABLES.items():
        frame = synthetic.TABLES[name](rows).drop(columns=["tailnum", "date"], errors="ignore")
        X, y = frame.drop(columns=target), frame[target]
        types = ["nominal" if c in categorical else "auto" for c in X.columns]
        fits = []
        for seed in range(4):
            X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=seed)
            ebm = estimator(
                outer_bags=2, max_rounds=1500, interactions=0, n_jobs=2, random_state=seed,
                feature_types=types,
            )  # fmt: skip
            fits.append(ebm.fit(X_train, y_train))
            if seed == 0:
                reference = X_train
        sample = reference.sample(n=REFERENCE_ROWS, random_state=REFERENCE_SEED)
        worst = 0.0
        for term in X.columns:
            values = []
            for rows_read in (reference, sample):
                curves = [
                    contributions.contributions(e, term, contributions.bin_indexes(e, rows_read))
                    for e in fits
                ]
                values.append(shapes.agreement(np.array(curves)))
            worst = max(worst, abs(values[0] - values[1]))
            print(f"{name:<8} {term:<12} all rows {values[0]:.4f}  sample {values[1]:.4f}")
        numeric = reference.select_dtypes("number")
        change = numeric.corr("spearman") - numeric.loc[sample.index].corr("spearman")
        print(
            f"{name}: {len(reference)} training rows; largest change of a shape agreement "
            f"{worst:.4f}, of a Spearman correlation {np.nanmax(np.abs(change.to_numpy())):.4f}"
        )


if __name__ == "__main__":
    main()
