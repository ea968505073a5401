"""What a user would otherwise write: one script per run, MLflow autolog, a chart by hand."""

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import mlflow.sklearn  # noqa: E402
from interpret.glassbox import ExplainableBoostingClassifier  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--seed", type=int, required=True)
parser.add_argument("--tracking-uri", required=True)
args = parser.parse_args()

mlflow.set_tracking_uri(args.tracking_uri)
mlflow.set_experiment("naive")
mlflow.sklearn.autolog()
X, y = load_breast_cancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, random_state=args.seed, stratify=y
)
with mlflow.start_run(run_name=f"seed {args.seed}"):
    ebm = ExplainableBoostingClassifier(
        interactions=0, outer_bags=8, max_rounds=2000, random_state=0
    )
    start = time.perf_counter()
    ebm.fit(X_train, y_train)
    mlflow.log_metric("fit_seconds", time.perf_counter() - start)  # for the bench's tail
    pred = ebm.predict(X_test)
    mlflow.log_metrics(
        {
            "accuracy": accuracy_score(y_test, pred),
            "f1": f1_score(y_test, pred),
            "roc_auc": roc_auc_score(y_test, ebm.predict_proba(X_test)[:, 1]),
        }
    )
    order = ebm.term_importances().argsort()
    fig, ax = plt.subplots(figsize=(8, 9))
    ax.barh([ebm.term_names_[i] for i in order], ebm.term_importances()[order])
    fig.tight_layout()
    mlflow.log_figure(fig, "importance.png")
