"""The sweep's Hydra callback under its path before the package had layers
(`ebm_study.callbacks.SweepRun`), so a config that names it there still loads. It lives in
sweep/callbacks.py; conf/config.yaml names it there."""

from ebm_study.sweep.callbacks import SweepRun

__all__ = ["SweepRun"]
