"""What the console scripts share beyond their errors (`console`) and their command lines
(`parsers`): the store they point MLflow at, and the sweep they choose."""

from __future__ import annotations

import argparse

from omegaconf import DictConfig

from ebm_study.config import compose_default
from ebm_study.errors import UserError
from ebm_study.tracking import store, sweeps, tags


def use_store(args: argparse.Namespace) -> DictConfig:
    """Point MLflow at --tracking-uri, or the store a plain `ebm-study` uses; returns that
    default config (its tracking group names the experiment and registered model)."""
    cfg = compose_default()
    store.use(args.tracking_uri or str(cfg.tracking.uri))
    return cfg


def select_sweep(args: argparse.Namespace, cfg: DictConfig) -> sweeps.Run:
    """The parent run of --sweep, or of the newest sweep in --experiment (or the config's)."""
    name = args.experiment or str(cfg.tracking.experiment)
    experiment_id = store.experiment_id_of(name)
    if experiment_id is None:
        raise UserError(f"--experiment={name!r} does not exist in {store.describe_uri()}")
    parent_id = args.sweep or sweeps.newest_sweep(experiment_id)
    if parent_id is None:
        raise UserError(f"experiment {name!r} has no sweep yet; run `ebm-study -m ...` first")
    parent = sweeps.get_run(parent_id)
    if parent is None or parent.data.tags.get(tags.ROLE) != tags.ROLE_SWEEP:
        raise UserError(f"--sweep={parent_id} is not a sweep run in {store.describe_uri()}")
    return parent
