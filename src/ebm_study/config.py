"""Where the configs live, and the pure functions that read a composed config."""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from omegaconf import DictConfig, OmegaConf

# Paths derive from this file, never from the current directory: src/ebm_study/config.py.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = PROJECT_ROOT / "conf"

# Seeds say which replicate a run is, not which setting; n_jobs changes speed, not results;
# the study's own options change how runs are read, not the runs.
_NOT_A_SETTING = {"split_seed", "model_seed", "model.random_state", "model.n_jobs", "top_k"}
_NOT_A_SETTING_PREFIX = ("study.",)
# Where things are written is not part of what a run is.
_NOT_PARAMS = ("paths.", "tracking.")


def register_resolvers() -> None:
    """Make `${project_root:}` available before Hydra composes the config."""
    if not OmegaConf.has_resolver("project_root"):
        OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT))


def resolved(cfg: DictConfig) -> dict[str, Any]:
    """The config as plain data, interpolations resolved, Hydra's own node left out."""
    ours = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
    return OmegaConf.to_container(ours, resolve=True)


def compose_default(overrides: list[str] | None = None) -> DictConfig:
    """The config a plain `ebm-study` would use: how the other commands find the same store.
    Without overrides it is composed once a process (a report asks for it for the store, then
    for the study's default settings: 0.1-0.2 s each) and each caller gets its own copy."""
    if not overrides:
        return copy.deepcopy(_default_config())
    return _compose(overrides)


@functools.cache
def _default_config() -> DictConfig:
    return _compose([])


def _compose(overrides: list[str]) -> DictConfig:
    from hydra import compose, initialize_config_dir

    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="config", overrides=overrides)


def flatten(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as dotted keys: `model.learning_rate`."""
    container = resolved(cfg)
    flat: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            flat[prefix[:-1]] = node

    walk(container, "")
    return flat


def run_params(cfg: DictConfig) -> dict[str, Any]:
    """What the run is: every resolved value except where it was written."""
    return {k: v for k, v in flatten(cfg).items() if not k.startswith(_NOT_PARAMS)}


def setting(cfg: DictConfig) -> dict[str, Any]:
    """The hyperparameters that define a setting: the run's params without its seeds."""
    return {
        k: v
        for k, v in run_params(cfg).items()
        if k not in _NOT_A_SETTING and not k.startswith(_NOT_A_SETTING_PREFIX)
    }


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def config_key(cfg: DictConfig) -> str:
    """A stable short hash of the setting, so runs that differ only by seed group together."""
    return _digest(setting(cfg))


def run_key(cfg: DictConfig) -> str:
    """A stable short hash of everything that decides a run's result: its setting and seeds.
    Two runs with one run_key are the same fit; a resumed sweep reuses the finished one."""
    return digest_run(setting(cfg), cfg.split_seed, cfg.model_seed)


def digest_run(values: dict[str, Any], split_seed: int, model_seed: int) -> str:
    """run_key from a setting's values and the two seeds: how a sweeper that composed the
    setting once knows its runs' keys for any seeds."""
    return _digest({**values, "split_seed": split_seed, "model_seed": model_seed})


def sweep_key(overrides: list[str], cfg: DictConfig) -> str:
    """What identifies a sweep across restarts: its command-line overrides and base config,
    without where it writes, how it launches, or whether it is told to rerun."""
    ours = [o for o in overrides if not o.lstrip("+~").startswith(("hydra", "study.rerun"))]
    base = {k: v for k, v in flatten(cfg).items() if k != "study.rerun"}
    key: dict[str, Any] = {"overrides": sorted(ours), "config": base}
    sweeper = OmegaConf.select(cfg, "hydra.sweeper", default=None)
    target = str(sweeper.get("_target_", "")) if sweeper is not None else ""
    if target.rsplit(".", 1)[-1] in ("AdaptiveSweeper", "StabilitySearchSweeper"):
        # Ours decide which fits run: a grid with seeds on demand is not the same sweep as the
        # basic grid, nor a search of another space. A larger n_trials continues the search.
        node = OmegaConf.to_container(sweeper, resolve=True)
        key["sweeper"] = {k: v for k, v in node.items() if k != "n_trials"}
    return _digest(key)


def mask_overrides(overrides: list[str]) -> list[str]:
    """Overrides with any URI password masked, fit to be written into a run."""
    out = []
    for item in overrides:
        key, sep, value = item.partition("=")
        out.append(f"{key}{sep}{mask_uri(value)}" if sep else item)
    return out


# Where a sweep stores things: left out of its name (hydra.sweeper.* says what it sweeps).
_STORAGE_PREFIXES = ("tracking.", "paths.", "hydra.run.", "hydra.sweep.")


def sweep_name(overrides: Iterable[str]) -> str:
    """`sweep split_seed=range(0,6) model.learning_rate=0.05,0.1`: the sweep's command line
    without where things are stored (a store's URI is long and says nothing of the sweep; the
    parent's overrides.txt keeps every one)."""
    kept = [o for o in overrides if not o.lstrip("+~").startswith(_STORAGE_PREFIXES)]
    return " ".join(["sweep", *kept])


def mask_uri(uri: str) -> str:
    """The URI with any password replaced, fit to be written into a run."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = f"{parts.username}:***@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def to_yaml(cfg: DictConfig) -> str:
    """The resolved config as YAML, Hydra's node left out, any URI's password masked."""

    def masked(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: masked(v) for k, v in node.items()}
        if isinstance(node, list):
            return [masked(v) for v in node]
        return mask_uri(node) if isinstance(node, str) else node

    return OmegaConf.to_yaml(OmegaConf.create(masked(resolved(cfg))))


SEEDS = ("split_seed", "model_seed")  # which replicate a run is, not which setting


def short_names(keys: Iterable[str]) -> dict[str, str]:
    """`model.learning_rate` -> `learning_rate`, or `model_learning_rate` when two keys end
    alike: names without dots for table columns (MLflow's table view shows a dotted column
    empty) and for the setting's words."""
    keys = list(keys)
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {
        k: (tail if last.count(tail) == 1 else k.replace(".", "_"))
        for k, tail in zip(keys, last, strict=True)
    }


def setting_label(params: Mapping[str, object], swept: Iterable[str]) -> str:
    """`learning_rate=0.05`: the swept hyperparameters of a run, seeds left out, from its
    params (strings as MLflow holds them, or `run_params`' values, which print the same); ""
    when a sweep varies only seeds. The run's `setting` tag and the study's table use these
    same words."""
    keys = [k for k in swept if k not in SEEDS and k in params]
    names = short_names(keys)
    return ",".join(f"{names[k]}={params[k]}" for k in keys)
