"""What `hydra/sweeper=adaptive` and `hydra/sweeper=stability_search` do once Hydra hands them
the sweep: find the parent run the sweep's callback opened, and fit settings on seeds on demand
(adaptive.Runner) through the configured launcher, a grid's or the ones Optuna asks for.

A problem found here (a setting Hydra cannot compose, an Optuna storage that cannot be opened)
ends the sweep with one line and exit 2, and its parent run FAILED with that error.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from ebm_study import settings
from ebm_study.config import setting_label, sweep_key
from ebm_study.errors import UserError
from ebm_study.fit import model
from ebm_study.sweep import plan as sweep_plan
from ebm_study.sweep.adaptive import Runner, Setting
from ebm_study.tracking import store, sweeps

log = logging.getLogger(__name__)
PROG = "ebm-study"


def sweep(config: DictConfig, launcher: Any, config_loader: Any) -> list[Any]:
    """Run the configured sweep of ours to its end; returns the launches' results."""
    parent_id = None
    try:
        plan = sweep_plan.plan(config)
        assert plan is not None, "not one of ebm-study's sweepers"
        experiment_id = store.connect(config.tracking)
        found = sweeps.find_sweep(experiment_id, str(config.hydra.sweep.dir))
        if found is None:
            raise UserError(
                "no sweep run found for this launch: hydra.callbacks.mlflow_sweep (conf/config."
                "yaml) opens it, and must stay"
            )
        parent_id = found[0]
        sweep_dir = Path(str(config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(config, sweep_dir / "multirun.yaml")  # as Hydra's basic sweeper does
        results: list[Any] = []

        def launch(batch, first: int) -> None:
            results.append(launcher.launch(batch, initial_job_idx=first))

        from ebm_study.sweep.launchers import (
            parallel_jobs,  # the launcher's width, as jobs count it
        )

        runner = Runner(
            launch,
            lambda overrides: config_loader.load_sweep_config(config, overrides),
            config,
            plan,
            settings.from_config(config),
            experiment_id,
            parent_id,
            parallel_jobs(config.hydra.launcher, model.cores()),
        )
        if plan.kind == sweep_plan.ADAPTIVE:
            keys = list(plan.space.swept)
            runner.run([Setting(o, label(o, keys)) for o in plan.grid])
        else:
            from ebm_study.sweep.search import Search  # Optuna only for a search

            name = f"ebm-study-{sweep_key(list(config.hydra.overrides.task), config)}"
            Search(runner, plan, config, name).run()
        return results
    except UserError as err:
        if parent_id is not None:
            sweeps.fail_sweep(parent_id, str(err))
        print(f"{PROG}: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def label(overrides: list[str], keys: list[str]) -> str:
    """`learning_rate=0.05`: a grid setting in the study's words."""
    values = {
        o.get_key_element(): o.get_value_element_as_str()
        for o in OverridesParser.create().parse_overrides(overrides)
    }
    return setting_label(values, keys)
