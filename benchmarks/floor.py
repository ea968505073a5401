"""The floor: the same fits and predictions as a sweep, bare, in one process, no tracking."""

import argparse
import json
import time

from interpret.glassbox import ExplainableBoostingClassifier
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=20)
parser.add_argument("--start", type=int, default=0, help="first split seed")
args = parser.parse_args()

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
wall, cpu = time.perf_counter(), time.process_time()
fits = []
for seed in range(args.start, args.start + args.runs):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=seed, stratify=y
    )
    # The quick study's fit: conf/model/ebm.yaml (max_rounds: auto, 2000 at 455 rows and 0.015).
    ebm = ExplainableBoostingClassifier(
        interactions=0, outer_bags=8, max_rounds=2000, n_jobs=1, random_state=0
    )
    start = time.perf_counter()
    ebm.fit(X_train, y_train)
    fits.append(time.perf_counter() - start)
    ebm.predict_proba(X_test)
loop = {"loop_wall": time.perf_counter() - wall, "loop_cpu": time.process_time() - cpu}
print(json.dumps({**loop, "fit_seconds": fits}))
