"""What a sweep needs to know of its Hydra launcher: how many jobs it runs at once, its name."""

from __future__ import annotations

from omegaconf import DictConfig


def parallel_jobs(launcher: DictConfig, cores: int) -> int:
    """How many jobs the configured launcher runs at once on this machine: joblib's n_jobs;
    for Ray, as many as fit the cores each job asks for (`ray.remote.num_cpus`); otherwise one.
    """
    target = str(launcher.get("_target_", "")).lower()
    if "ray" in target:
        asked = (launcher.get("ray") or {}).get("remote", {}).get("num_cpus") or 1
        return max(1, cores // max(1, int(asked)))
    if "joblib" not in target:
        return 1
    n = int(launcher.get("n_jobs", -1) or -1)
    return n if n > 0 else max(1, cores + 1 + n)  # joblib: -1 = every core, -2 = all but one


def launcher_name(launcher: DictConfig) -> str:
    """The launcher's class, short: BasicLauncher, JoblibLauncher, RayLauncher."""
    return str(launcher.get("_target_", "")).rsplit(".", 1)[-1]
