"""The sweepers as Hydra plugins; conf/hydra/sweeper/ configures them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper, BasicSweeperConf
from hydra.core.config_store import ConfigStore
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


class GridSweeper(BasicSweeper):
    """Hydra's basic sweeper (`hydra/sweeper=basic`, the default), each job's config composed
    once rather than twice.

    Hydra's checks every job of a batch by composing its config, then the launcher composes it
    again: 0.1 s a job here, in the launching process, while a joblib launcher's workers wait
    for the whole batch's check. Here the check composes only the jobs that bring an override
    value not seen yet in the batch (11 of `make run`'s 40): every value of every swept key is
    tried before any job starts, though not every combination (with plain YAML groups a
    combination fails only where one of its values does). The launcher is handed the configs
    composed for the check, up to KEEP of them (0.15 MB each): the basic launcher's jobs and
    the joblib launcher's forked workers use them; the rest compose their own.
    """

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        composed = _Composed(hydra_context.config_loader)
        super().setup(
            hydra_context=HydraContext(config_loader=composed, callbacks=hydra_context.callbacks),
            task_function=task_function,
            config=config,
        )

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        assert self.hydra_context is not None and self.config is not None
        composed = self.hydra_context.config_loader
        assert isinstance(composed, _Composed)
        composed.kept.clear()
        seen: set[str] = set()
        for overrides in batch:
            if not seen.issuperset(overrides):
                seen.update(overrides)
                composed.compose(self.config, overrides)


KEEP = 1000  # configs composed for a batch's check, kept for its launch


class _Composed:
    """Hydra's config loader, handing the launcher a config the sweeper's check composed.
    Pickled (a joblib or Ray launcher's workers compose their own) it is the loader alone."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.kept: dict[tuple[str, ...], DictConfig] = {}

    def compose(self, master_config: DictConfig, overrides: Sequence[str]) -> None:
        config = self.loader.load_sweep_config(master_config, list(overrides))
        if len(self.kept) < KEEP:
            self.kept[tuple(overrides)] = config

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]) -> Any:
        kept = self.kept.pop(tuple(sweep_overrides), None)
        if kept is not None:
            return kept
        return self.loader.load_sweep_config(master_config, sweep_overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)

    def __reduce__(self) -> Any:
        return self.loader.__reduce__()


# In place of Hydra's own `basic` (its keys, its name, the default sweeper of every config):
# Hydra imports its core plugins, which register theirs, before this module. A config file of
# that name would do the same with a deprecation warning from every process that composes.
ConfigStore.instance().store(
    group="hydra/sweeper",
    name="basic",
    node=BasicSweeperConf(_target_=f"{__name__}.{GridSweeper.__qualname__}"),
    provider="ebm_study",
)
