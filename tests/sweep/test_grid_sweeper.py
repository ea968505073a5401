"""The default sweeper (`hydra/sweeper=basic`, GridSweeper): Hydra's basic sweeper composing each
job's config once, with Hydra's own config loader and our conf/."""

from __future__ import annotations

import pickle

import pytest
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.utils import create_automatic_config_search_path
from hydra.core.plugins import Plugins
from hydra.errors import ConfigCompositionException
from hydra.types import HydraContext, RunMode

from ebm_study.config import CONF_DIR, register_resolvers


class Counting(ConfigLoaderImpl):
    """Hydra's loader, counting its compositions."""

    calls = 0

    def load_sweep_config(self, master_config, sweep_overrides):
        Counting.calls += 1
        return super().load_sweep_config(master_config, sweep_overrides)


@pytest.fixture
def sweeper():
    register_resolvers()
    loader = Counting(
        config_search_path=create_automatic_config_search_path(None, None, str(CONF_DIR))
    )
    config = loader.load_configuration("config", [], RunMode.MULTIRUN)
    chosen = Plugins.instance().instantiate_sweeper(
        config=config,
        hydra_context=HydraContext(config_loader=loader, callbacks=None),
        task_function=lambda cfg: None,
    )
    Counting.calls = 0
    return chosen, config


def batch(seeds, rates):
    return [[f"split_seed={s}", f"model.learning_rate={r}"] for s in seeds for r in rates]


def test_the_default_sweeper_is_ours(sweeper):
    chosen, config = sweeper
    # Hydra's plugin scan loads the module a second time: its own class object.
    assert type(chosen).__qualname__ == "GridSweeper"
    assert config.hydra.sweeper._target_.endswith("GridSweeper")


def test_the_check_composes_each_value_once_and_the_launcher_gets_its_configs(sweeper):
    chosen, config = sweeper
    jobs = batch(range(10), (0.015, 0.05))  # make run's shape: 20 jobs, 12 values
    chosen.validate_batch_is_legal(jobs)
    checked = Counting.calls
    assert checked == 11  # seed 0 at both rates, then one a seed; Hydra's check composes 20
    loader = chosen.hydra_context.config_loader
    for job in jobs:  # as BasicLauncher.launch asks
        cfg = loader.load_sweep_config(config, list(job))
        assert cfg.split_seed == int(job[0].split("=")[1])
        assert cfg.model.learning_rate == float(job[1].split("=")[1])
    assert Counting.calls == 20  # every job composed once: the unchecked 9 at launch


def test_a_bad_value_anywhere_in_the_batch_stops_it_before_any_job(sweeper):
    chosen, _ = sweeper
    jobs = [*batch(range(3), (0.015,)), ["split_seed=9", "data=no_such_data"]]
    with pytest.raises(ConfigCompositionException, match="no_such_data"):
        chosen.validate_batch_is_legal(jobs)


def test_a_launcher_in_other_processes_gets_hydra_s_plain_loader(sweeper):
    chosen, config = sweeper
    chosen.validate_batch_is_legal(batch(range(2), (0.05,)))
    sent = pickle.loads(pickle.dumps(chosen.hydra_context.config_loader))
    assert type(sent) is Counting  # no configs kept for the check travel with each job
    assert sent.load_sweep_config(config, ["split_seed=1"]).split_seed == 1
