"""Copying runs between stores, for `ebm-study-migrate`.

MLflow has no command that copies runs between stores (`mlflow-export-import` on PyPI, 1.2.0,
predates MLflow 3's logged models), so this copies through MLflow's client API, with explicit
source and destination clients: experiments, runs (params, metric history, tags, status, times,
parent links, datasets, artifacts), logged models, registered versions and aliases.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
from mlflow.entities import LoggedModelOutput, LoggedModelStatus, Metric, Param
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ebm_study import console
from ebm_study.config import mask_uri
from ebm_study.errors import UserError
from ebm_study.tracking import models, store, tags

_TERMINAL = {"FINISHED", "FAILED", "KILLED"}


@dataclass
class CopyReport:
    experiments: list[str] = field(default_factory=list)
    runs: int = 0
    already: int = 0  # copied by an earlier migration
    unfinished: int = 0  # RUNNING or SCHEDULED (with their children): left for later
    models: int = 0
    versions: int = 0
    aliases: list[str] = field(default_factory=list)
    aliases_kept: list[str] = field(default_factory=list)  # the server's own, not overwritten


def copy_store(src_uri: str, dst_uri: str, experiments: list[str] | None = None) -> CopyReport:
    """Copy experiments (all, or those named) with every run, logged model, registered version
    and alias from one store to another, keeping run names, times, statuses and parent links.

    Safe to repeat: what an earlier migration copied (tagged with its source's id) is skipped.
    Artifacts travel through each store's own API, so the server's artifact proxy takes them.
    """
    src = MlflowClient(tracking_uri=src_uri, registry_uri=src_uri)
    dst = MlflowClient(tracking_uri=dst_uri, registry_uri=dst_uri)
    available = {e.name: e for e in src.search_experiments()}
    names = experiments or [
        n for n, e in available.items() if src.search_runs([e.experiment_id], max_results=1)
    ]
    missing = [n for n in names if n not in available]
    if missing:
        raise UserError(
            f"--experiment={missing[0]!r} is not in {mask_uri(src_uri)}; it has: "
            f"{', '.join(sorted(available)) or 'no experiments'}"
        )
    report, run_ids, model_ids = CopyReport(), {}, {}
    for name in names:
        source = available[name]
        target = dst.get_experiment_by_name(name)
        target_id = target.experiment_id if target else dst.create_experiment(name)
        for key, value in source.tags.items():
            dst.set_experiment_tag(target_id, key, value)
        with tempfile.TemporaryDirectory(prefix="ebm-study-migrate-") as tmp:
            folder, ids = Path(tmp), (source.experiment_id, target_id)
            _copy_runs(src, dst, *ids, folder, report, run_ids)
            report.models += _copy_models(src, dst, src_uri, *ids, folder, run_ids, model_ids)
        report.experiments.append(name)
    _copy_registry(src, dst, run_ids, model_ids, report)
    return report


def _copy_runs(src, dst, source_id, target_id, tmp, report, run_ids) -> None:
    runs = src.search_runs([source_id], max_results=50_000)
    # Only complete copies carry the tag (it is set last), so an interrupted copy is redone.
    done = {
        r.data.tags[tags.MIGRATED_FROM]: r.info.run_id
        for r in dst.search_runs(
            [target_id], f"tags.`{tags.MIGRATED_FROM}` != ''", max_results=50_000
        )
    }
    skipped: set[str] = set()
    tally = console.Tally(len(runs), "migrate: runs")
    # Parents before children, so each child's parent link can point at the copy.
    for run in sorted(runs, key=lambda r: (tags.PARENT in r.data.tags, r.info.start_time or 0)):
        old, parent = run.info.run_id, run.data.tags.get(tags.PARENT)
        if run.info.status not in _TERMINAL or parent in skipped:
            skipped.add(old)
            report.unfinished += 1
        elif old in done:
            run_ids[old] = done[old]
            report.already += 1
        else:
            run_ids[old] = _copy_run(src, dst, run, target_id, run_ids.get(parent), tmp / old)
            report.runs += 1
        tally.advance()
    tally.close()


def _copy_run(src, dst, run, target_id, parent: str | None, folder: Path) -> str:
    old = run.info.run_id
    run_tags = {
        k: v for k, v in run.data.tags.items() if k not in (tags.PARENT, tags.MIGRATED_FROM)
    }
    if parent:
        run_tags[tags.PARENT] = parent
    new = dst.create_run(
        target_id, start_time=run.info.start_time, tags=run_tags, run_name=run.info.run_name
    ).info.run_id
    try:
        params = [Param(k, v) for k, v in run.data.params.items()]
        for i in range(0, len(params), 100):  # MLflow's batch limit for params
            dst.log_batch(new, params=params[i : i + 100])
        if run.inputs and run.inputs.dataset_inputs:
            dst.log_inputs(new, datasets=run.inputs.dataset_inputs)
        metrics = [
            Metric(m.key, m.value, m.timestamp, m.step)
            for key in run.data.metrics
            for m in src.get_metric_history(old, key)
        ]
        for i in range(0, len(metrics), 1000):
            dst.log_batch(new, metrics=metrics[i : i + 1000])
        folder.mkdir()
        if src.list_artifacts(old):
            src.download_artifacts(old, "", str(folder))
            dst.log_artifacts(new, str(folder))
        dst.set_terminated(new, run.info.status, end_time=run.info.end_time)
        dst.set_tag(new, tags.MIGRATED_FROM, old)
    except BaseException:
        dst.delete_run(new)  # no half copy left behind; the next migration copies it again
        raise
    return new


def _copy_models(src, dst, src_uri, source_id, target_id, tmp, run_ids, model_ids) -> int:
    """Logged models (MLflow 3 keeps them beside runs, not inside) of the copied runs; returns
    how many were new."""
    copied = 0
    existing = {
        m.tags.get(tags.MIGRATED_FROM): m.model_id
        for m in dst.search_logged_models(experiment_ids=[target_id], max_results=50_000)
        if m.status == LoggedModelStatus.READY  # an interrupted copy stays PENDING: redone
    }
    for model in src.search_logged_models(experiment_ids=[source_id], max_results=50_000):
        run = run_ids.get(model.source_run_id)
        if run is None or model.status != LoggedModelStatus.READY:
            continue
        if model.model_id in existing:
            model_ids[model.model_id] = existing[model.model_id]
            continue
        new = dst.create_logged_model(
            target_id,
            name=model.name,
            source_run_id=run,
            # Its registered versions are recorded again as they are made in the target.
            tags={
                **{k: v for k, v in model.tags.items() if k != models.MODEL_VERSIONS},
                tags.MIGRATED_FROM: model.model_id,
            },
            params=model.params,
            model_type=model.model_type,
        )
        try:
            folder = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=model.artifact_location,
                    dst_path=str(tmp / model.model_id),
                    tracking_uri=src_uri,
                )
            )
            # The MLmodel file names its run and model: point them at the copies.
            meta = mlflow.models.Model.load(str(folder))
            meta.run_id, meta.model_id = run, new.model_id
            meta.save(str(folder / "MLmodel"))
            dst.log_model_artifacts(new.model_id, str(folder))
            dst.log_outputs(run, [LoggedModelOutput(new.model_id, step=0)])
            metrics = [
                Metric(m.key, m.value, m.timestamp, m.step, model_id=new.model_id, run_id=run)
                for m in model.metrics or []
            ]
            if metrics:
                dst.log_batch(run, metrics=metrics)
            dst.finalize_logged_model(new.model_id, LoggedModelStatus.READY)  # last: complete
        except BaseException:
            dst.finalize_logged_model(new.model_id, LoggedModelStatus.FAILED)
            raise
        model_ids[model.model_id] = new.model_id
        copied += 1
    return copied


def _copy_registry(src, dst, run_ids, model_ids, report) -> None:
    """Versions made from copied models, and aliases the server does not have yet (a team's
    champion on the server is never moved by someone's migration)."""
    for registered in src.search_registered_models():
        versions = [
            v
            for v in src.search_model_versions(f"name='{registered.name}'")
            if v.run_id in run_ids and _version_model_id(v) in model_ids
        ]
        if not versions:
            continue
        try:
            target = dst.get_registered_model(registered.name)
        except MlflowException as err:
            if not store.is_not_found(err):
                raise
            target = dst.create_registered_model(
                registered.name, tags=registered.tags, description=registered.description
            )
        numbers = {}
        for v in sorted(versions, key=lambda v: int(v.version)):
            new_run, new_model = run_ids[v.run_id], model_ids[_version_model_id(v)]
            found = models.registered_version_for_run(registered.name, new_run, dst)
            if found:
                numbers[str(v.version)] = found
                continue
            created = dst.create_model_version(
                registered.name,
                source=f"models:/{new_model}",
                run_id=new_run,
                tags={**v.tags, tags.MIGRATED_FROM: f"{registered.name}/{v.version}"},
                description=v.description,
                model_id=new_model,
            )
            numbers[str(v.version)] = str(created.version)
            models.record_version(dst, new_model, registered.name, str(created.version))
            report.versions += 1
        for alias, number in registered.aliases.items():
            if str(number) not in numbers:
                continue
            label = f"{registered.name}@{alias}"
            if str(target.aliases.get(alias)) == numbers[str(number)]:
                continue  # copied by an earlier migration
            if alias in target.aliases:
                report.aliases_kept.append(f"{label} (server: version {target.aliases[alias]})")
                continue
            dst.set_registered_model_alias(registered.name, alias, numbers[str(number)])
            report.aliases.append(f"{label} -> version {numbers[str(number)]}")


def _version_model_id(version) -> str:
    """The logged model behind a registered version (older versions name it only in source)."""
    if version.model_id:
        return version.model_id
    source = str(version.source or "")
    return source.removeprefix("models:/") if source.startswith("models:/m-") else ""
