"""Stability-aware search: Optuna's multi-objective study, driven through its ask/tell API, asks
for settings; each is fitted on seeds on demand (adaptive.Runner) and told two objectives, its
mean test metric and its top-k stability.

The sampler is Optuna's multi-objective TPE (Ozaki et al., GECCO 2020 and JAIR 2022) by default:
a search here has 8 to 50 trials, and NSGA-II, Optuna's default for several objectives, spends
its whole first generation (50 trials) drawing at random; TPE models both objectives after
`n_startup_trials` random ones. `sampler: nsga2` (population_size) and `random` are there too.

The study persists in a database beside the MLflow store (tracking.search_storage): a re-run of
the same command loads it, asks again for the settings of trials an interrupted launch left
unfinished, and counts only trials that ended toward `n_trials`.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any

from omegaconf import DictConfig

from ebm_study.config import mask_uri, setting_label
from ebm_study.errors import UserError
from ebm_study.metric_names import lower_is_better
from ebm_study.sweep import search_space
from ebm_study.sweep.adaptive import Runner, Setting
from ebm_study.sweep.plan import Plan
from ebm_study.sweep.seeds import FAILED
from ebm_study.tracking import sweeps, tags

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"  # a trial's user attribute: its launch stopped; asked again
SQLITE = "sqlite:///"


def storage_url(tracking: DictConfig) -> str:
    """Where the Optuna study lives: `tracking.search_storage`, else beside the embedded SQLite
    store (optuna.db next to mlflow.db). A tracking server's clients need a database every
    launch can reach: its PostgreSQL (`make server` makes one and prints its URL)."""
    given = tracking.get("search_storage")
    if given:
        return str(given)
    uri = str(tracking.uri)
    if uri.startswith(SQLITE):
        db = uri.removeprefix(SQLITE)
        return f"{SQLITE}{db.rsplit('/', 1)[0]}/optuna.db"
    raise UserError(
        f"tracking.search_storage is not set: hydra/sweeper=stability_search against "
        f"{mask_uri(uri)} keeps its Optuna study in a database every launch can reach, e.g. "
        "tracking.search_storage=postgresql+psycopg://user:password@host/ebm_study_search "
        "(`make server` creates one and prints its URL; or EBM_STUDY_SEARCH_STORAGE)"
    )


def sampler(sweeper: DictConfig, asked_before: int = 0):
    """The configured Optuna sampler (module docstring: why TPE by default). Its seed moves on
    by the trials asked before, so a resumed search does not draw its first settings again."""
    import optuna

    name, seed = sweeper.get("sampler", "tpe"), sweeper.get("seed", 0)
    seed = None if seed is None else int(seed) + asked_before
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(
            population_size=int(sweeper.get("population_size") or 50), seed=seed
        )
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():  # multivariate TPE is flagged experimental, not changing
        warnings.simplefilter("ignore")
        return optuna.samplers.TPESampler(
            n_startup_trials=int(sweeper.get("n_startup_trials") or 4),
            multivariate=True,
            seed=seed,
        )


def open_study(url: str, name: str, directions: list[str], sweeper: DictConfig):
    """The search's Optuna study, created or loaded; a storage that cannot be opened, or a
    study of that name with other objectives, is one line."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our log says what each trial did
    try:
        study = optuna.create_study(
            storage=url,
            study_name=name,
            directions=directions,
            sampler=sampler(sweeper),
            load_if_exists=True,
        )
    except Exception as err:  # noqa: BLE001 - SQLAlchemy's and Optuna's many kinds, one line
        raise UserError(
            f"tracking.search_storage={mask_uri(url)!r} cannot hold the search's Optuna study: "
            f"{type(err).__name__}: {search_space.one_line(err)[:300]}"
        ) from None
    study.sampler = sampler(sweeper, asked_before=len(study.trials))
    if [d.name.lower() for d in study.directions] != directions:
        raise UserError(
            f"the Optuna study {name} in {mask_uri(url)} optimises "
            f"{[d.name.lower() for d in study.directions]}, not {directions}"
        )
    return study


def resume(study) -> int:
    """Trials left RUNNING by a launch that is gone (killed) end FAIL, marked interrupted, and
    their settings are asked again first; returns how many."""
    from optuna.trial import TrialState

    left = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in left:
        study._storage.set_trial_user_attr(trial._trial_id, INTERRUPTED, True)
        study.enqueue_trial(trial.params, skip_if_exists=False)
        study.tell(trial.number, state=TrialState.FAIL)
    return len(left)


def used(study) -> int:
    """Trials that count toward n_trials: those that ended, but for interrupted ones."""
    from optuna.trial import TrialState

    ended = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL))
    return sum(1 for t in ended if not t.user_attrs.get(INTERRUPTED))


class Search:
    """n_trials settings asked of Optuna, each fitted on seeds on demand by the runner."""

    def __init__(self, runner: Runner, plan: Plan, config: DictConfig, study_name: str) -> None:
        self.runner, self.plan, self.config = runner, plan, config
        settings = runner.settings
        self.minimise = settings.metric is not None and lower_is_better(settings.metric)
        self.directions = ["minimize" if self.minimise else "maximize", "maximize"]
        self.url = storage_url(config.tracking)
        self.name = study_name
        self.distributions = search_space.distributions(plan.space)

    def run(self) -> None:
        from optuna.trial import TrialState

        study = open_study(self.url, self.name, self.directions, self.config.hydra.sweeper)
        sweeps.set_tags(
            self.runner.parent_id,
            {tags.OPTUNA_STUDY: self.name, tags.OPTUNA_STORAGE: mask_uri(self.url)},
        )
        again = resume(study)
        if again:
            log.info("search: %d trial(s) an earlier launch left unfinished are asked again", again)
        known = self.earlier(study)
        log.info(
            "search: Optuna study %s in %s, %d of %d trials done",
            self.name,
            mask_uri(self.url),
            used(study),
            self.plan.n_trials,
        )
        while used(study) < self.plan.n_trials:
            trial = study.ask(self.distributions)
            chosen = {k: search_space.readable(v) for k, v in trial.params.items()}
            same = known.get(_key(chosen))
            if same is not None:  # fitted already: the same runs give the same answer
                trial.set_user_attr("same_as_trial", same.number)
                for name, value in same.user_attrs.items():
                    if name != INTERRUPTED:
                        trial.set_user_attr(name, value)
                study.tell(trial, same.values)
                log.info("trial %d: the setting of trial %d again", trial.number, same.number)
                continue
            setting = Setting(
                overrides=search_space.overrides_for(chosen),
                label=setting_label(chosen, list(chosen)),
                trial=trial.number,
            )
            try:
                self.runner.run([setting])
            except UserError as err:  # a setting Hydra cannot compose: this trial fails
                trial.set_user_attr("error", str(err)[:500])
                study.tell(trial, state=TrialState.FAIL)
                log.warning("trial %d (%s) failed: %s", trial.number, setting.label, err)
                continue
            except BaseException:  # Ctrl-C, a stop signal, a store gone: ask it again next time
                trial.set_user_attr(INTERRUPTED, True)
                study.enqueue_trial(trial.params, skip_if_exists=False)
                study.tell(trial, state=TrialState.FAIL)
                raise
            finally:
                if setting.runs:
                    sweeps.tag_runs(list(setting.runs), tags.TRIAL, str(trial.number))
            if self.tell(study, trial, setting):
                known[_key(chosen)] = study.trials[trial.number]

    def tell(self, study, trial, setting: Setting) -> bool:
        """The trial's two objectives, or FAIL when a job failed or a measure is undefined;
        whether it completed."""
        from optuna.trial import TrialState

        m = setting.measured
        for name, value in {
            tags.CONFIG_KEY: setting.key,
            "setting": setting.label,
            "seeds_used": len(setting.pairs),
            "stopped": setting.stopped,
            "ci_width": setting.width,
            "metric": self.runner.metric,
        }.items():
            trial.set_user_attr(name, value if not _nan(value) else None)
        values = [m.get("metric", math.nan), m.get("objective", math.nan)]
        if setting.stopped == FAILED or any(_nan(v) for v in values):
            why = "a job failed" if setting.stopped == FAILED else "an objective is undefined"
            study.tell(trial, state=TrialState.FAIL)
            log.warning("trial %d (%s) failed: %s", trial.number, setting.label, why)
            return False
        study.tell(trial, values)
        log.info(
            "trial %d (%s): %s %.4f, stability %.3f, %d seeds (%s)",
            trial.number,
            setting.label,
            self.runner.metric,
            values[0],
            values[1],
            len(setting.pairs),
            setting.stopped,
        )
        return True

    def earlier(self, study) -> dict[tuple, Any]:
        """Completed trials of earlier launches, by setting; their rows join the seeds table."""
        from optuna.trial import TrialState

        known = {}
        for trial in study.get_trials(states=(TrialState.COMPLETE,)):
            chosen = {k: search_space.readable(v) for k, v in trial.params.items()}
            known.setdefault(_key(chosen), trial)
            attrs = trial.user_attrs
            if "same_as_trial" in attrs or not attrs.get(tags.CONFIG_KEY):
                continue
            self.runner.before.append(
                {
                    tags.CONFIG_KEY: attrs[tags.CONFIG_KEY],
                    "setting": attrs.get("setting", ""),
                    "trial": trial.number,
                    "seeds_used": int(attrs.get("seeds_used") or 0),
                    "seeds_failed": 0,
                    "stopped": attrs.get("stopped"),
                    "ci_width": attrs.get("ci_width") or math.nan,
                }
            )
        return known


def _key(params: dict[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


def _nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)
