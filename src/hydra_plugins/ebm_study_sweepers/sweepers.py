"""The two sweepers as Hydra plugins; conf/hydra/sweeper/ configures them."""

from __future__ import annotations

from typing import Any

from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class _Sweeper(Sweeper):
    """Hydra passes the `hydra.sweeper` node's keys; ebm_study.sweep.plan reads them from the
    config, where the sweep's callback already checked them before any run existed."""

    kind = ""

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        from ebm_study.sweep import sweepers

        assert self.config is not None and self.hydra_context is not None
        return sweepers.sweep(self.config, self.launcher, self.hydra_context.config_loader)


class AdaptiveSweeper(_Sweeper):
    """A grid of settings, each fitted on seeds until its stability interval is narrow enough."""


class StabilitySearchSweeper(_Sweeper):
    """Optuna's multi-objective search for settings both accurate and stable."""
