"""JSON tables on runs: every job's importance table read in parallel, the study logged on a
sweep's parent (metrics, tables, pictures, summary), one table written and read back."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import mlflow
import pandas as pd
from mlflow.entities import Metric, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ebm_study.tracking import tags
from ebm_study.tracking.sweeps import (
    now_ms,
)


def load_importances(
    artifact_uris: Mapping[str, str], advance: Callable[[int], None] | None = None
) -> pd.DataFrame:
    """The importance tables of these runs (run_id -> the run's artifact URI), stacked, with a
    run_id column. Local files are read in place and parsed with `json` (MLflow's load_table
    downloads one run after another and pandas parses each file: 40 s for 1,000 runs); remote
    ones are downloaded by threads, which wait on the network, not the CPU. `advance(n)` is
    told of every n tables read (a progress display's)."""
    advance = advance or (lambda n: None)

    def uri_of(root: str) -> str:
        return f"{root.rstrip('/')}/{tags.IMPORTANCE_TABLE}"

    def download(uri: str) -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            path = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=tmp)
            return json.loads(Path(path).read_text())

    local = {r: uri_of(u) for r, u in artifact_uris.items() if u.startswith("file://")}
    remote = {r: uri_of(u) for r, u in artifact_uris.items() if r not in local}
    tables = {}
    for run_id, uri in local.items():
        tables[run_id] = json.loads(Path(urlsplit(uri).path).read_text())
        advance(1)
    with ThreadPoolExecutor(max_workers=8) as pool:
        for run_id, table in zip(remote, pool.map(download, remote.values()), strict=True):
            tables[run_id] = table
            advance(1)
    # One frame a column layout (all alike, unless old runs logged another), rows as lists.
    layouts: dict[tuple, tuple[list, list]] = {}
    for run_id, table in tables.items():
        rows, ids = layouts.setdefault(tuple(table["columns"]), ([], []))
        rows.extend(table["data"])
        ids.extend([run_id] * len(table["data"]))
    frames = [
        pd.DataFrame(rows, columns=list(columns)).assign(run_id=ids)
        for columns, (rows, ids) in layouts.items()
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def log_study(
    run_id: str,
    metrics: Mapping[str, float],
    tables: Mapping[str, pd.DataFrame],
    images: Mapping[str, bytes],
    note: str,
    run_tags: Mapping[str, str],
    texts: Mapping[str, str] | None = None,
) -> None:
    """Write a study onto the sweep's parent run, replacing an earlier one: `images` are PNG
    files by path (drawn once, also embedded in the page), `texts` text files by path (the
    page); both uploaded in one call."""
    client = MlflowClient()
    now = now_ms()
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
        tags=[RunTag(k, str(v)) for k, v in {**run_tags, tags.NOTE: note}.items()],
    )
    existing = {a.path for a in client.list_artifacts(run_id)}
    for path, table in tables.items():
        write_table(run_id, path, table, path in existing)
    files = {**images, **{p: t.encode("utf-8") for p, t in (texts or {}).items()}}
    if files:
        with tempfile.TemporaryDirectory() as tmp:
            for path, content in files.items():
                target = Path(tmp, path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            client.log_artifacts(run_id, tmp)


def write_table(run_id: str, path: str, table: pd.DataFrame, exists: bool | None = None) -> None:
    """A table artifact the UI shows, replacing one of the same path (`exists`: whether the run
    already holds it; None: ask)."""
    client = MlflowClient()
    if exists is None:
        exists = path in {a.path for a in client.list_artifacts(run_id)}
    if exists:  # log_table appends to an existing table; a recomputed one replaces it
        client.log_text(run_id, table.to_json(orient="split", index=False), path)
    else:
        client.log_table(run_id, table, path)


def read_table(run_id: str, path: str) -> pd.DataFrame | None:
    """A table artifact of the run (write_table's), or None when it has none."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=path, dst_path=tmp
            )
        except (MlflowException, OSError):
            return None
        table = json.loads(Path(local).read_text())
    return pd.DataFrame(table["data"], columns=table["columns"])
