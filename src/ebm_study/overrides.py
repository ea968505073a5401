"""Read Hydra override strings: which keys a sweep varies, and what to call a run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hydra.core.override_parser.overrides_parser import OverridesParser

from ebm_study.config import mask_uri

# Where Hydra writes is never what a run is about.
_QUIET_PREFIXES = ("hydra.", "hydra/", "tracking.", "paths.")


def _parsed(overrides: Iterable[str]):
    return OverridesParser.create().parse_overrides(list(overrides))


def swept_keys(overrides: Iterable[str], sweeper_params: Mapping[str, object] | None) -> list[str]:
    """The config keys a multirun varies, from its command line and `hydra.sweeper.params`.

    A plain (non-sweep) command-line value for a key fixes it, even if the sweeper lists it.
    """
    keys = list(sweeper_params or {})
    for override in _parsed(overrides):
        key = override.key_or_group
        if override.is_sweep_override():
            keys.append(key)
        elif key in keys:
            keys.remove(key)
    return list(dict.fromkeys(keys))


# A run's seeds, last in its name and short: the setting is what a cut name must still say.
_SEED_NAMES = {"split_seed": "split", "model_seed": "model"}


def run_name(overrides: Iterable[str], swept: Iterable[str] | None = None) -> str:
    """`learning_rate=0.05 split=3 model=1`: the run's overrides, only the swept keys in a
    sweep, what sets its setting apart first and its seeds last, so that the UI's runs list,
    which cuts names at about 20 characters, still shows the setting.

    MLflow's random names collide across seeds and say nothing; this says what differs.
    """
    keep = set(swept) if swept is not None else None
    parts, seeds = [], []
    for override in _parsed(overrides):
        key = override.key_or_group
        if key.startswith(_QUIET_PREFIXES) or (keep is not None and key not in keep):
            continue
        raw = override.value()
        value = mask_uri(raw) if isinstance(raw, str) else override.get_value_element_as_str()
        if key in _SEED_NAMES:
            seeds.append(f"{_SEED_NAMES[key]}={value}")
        else:
            parts.append(f"{key.rsplit('.', 1)[-1]}={value}")
    return " ".join(parts + seeds) or "defaults"


# A setting is its hyperparameters: the data, the seeds and how runs are read are not.
_NOT_A_SETTING = ("data", "split_seed", "model_seed", "top_k", "study.", "model.n_jobs")


def fixed_setting(overrides: Iterable[str], swept: Iterable[str]) -> str:
    """The words for the one setting of a sweep that varies only seeds: the hyperparameters its
    command line fixes (`learning_rate=0.05`), or `default settings`."""
    swept = set(swept)
    parts = []
    for override in _parsed(overrides):
        key = override.key_or_group
        if key in swept or key.startswith(_QUIET_PREFIXES) or key.startswith(_NOT_A_SETTING):
            continue
        parts.append(f"{key.rsplit('.', 1)[-1]}={override.get_value_element_as_str()}")
    return ",".join(parts) or "default settings"
