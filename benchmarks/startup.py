"""What a command costs before it does anything: `--help`, and the imports that bound the
figures a command cannot go below (`make bench` measures both, in its own processes)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
CONF = Path(__file__).resolve().parents[1] / "conf"

# What any sweep's launching process imports to track and study runs, beyond the bare fit's
# own (interpret, scikit-learn): Hydra, MLflow with its SQL store, pandas, matplotlib.
SWEEP_IMPORTS = (
    "import hydra, mlflow, pandas, matplotlib.figure, interpret.glassbox, sklearn.metrics; "
    "from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore"
)
# What the study needs to read a store and draw: MLflow and its SQL store, pandas, matplotlib.
REPORT_IMPORTS = (
    "import mlflow, pandas, matplotlib.figure; "
    "from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore"
)
# Hydra's own --help of this config, nothing of ebm-study's imported: it lists every config
# group, deep-copying its config repository (every plugin's schemas) once a group.
HYDRA_HELP = f"""
import hydra
@hydra.main(version_base="1.3", config_path={str(CONF)!r}, config_name="config")
def app(cfg):
    pass
app()
"""


def wall(*cmd: str, repeat: int = 3) -> float:
    """The median wall time of a command, `repeat` times (it must succeed)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "hydra_help.py"
        app.write_text(HYDRA_HELP)
        return {
            "help_ebm_study": wall(str(BIN / "ebm-study"), "--help"),
            "help_report": wall(str(BIN / "ebm-study-report"), "--help"),
            "help_hydra_alone": wall(sys.executable, str(app), "--help"),
            "python": wall(sys.executable, "-c", "pass"),
            "import_mlflow": wall(sys.executable, "-c", "import mlflow"),
            "import_report": wall(sys.executable, "-c", REPORT_IMPORTS),
            "import_sweep": wall(sys.executable, "-c", SWEEP_IMPORTS),
        }
