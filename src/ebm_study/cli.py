"""What ebm-study's commands share: errors as one line with exit code 2, and choosing a sweep.

Every command reports bad input the same way, `<command>: error: <what and what is allowed>`
on stderr and exit code 2, whether the input came from its arguments, the config, the store or
a tracking server that refused the login.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from omegaconf import DictConfig

from ebm_study.config import compose_default
from ebm_study.errors import UserError
from ebm_study.tracking import store, sweeps, tags

STORE_HELP = "MLflow store (default: MLFLOW_TRACKING_URI or mlruns/mlflow.db)"


@contextmanager
def user_errors(prog: str) -> Iterator[None]:
    """Inside: a UserError, or a tracking server's 401/403, ends the process with one line on
    stderr and exit code 2 (SystemExit, which Hydra's callbacks also let through)."""
    try:
        with store.server_refusals():
            yield
    except UserError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def command(prog: str) -> Callable[[Callable[[list[str] | None], int]], Callable[..., int]]:
    """Decorate a console script's `main(argv) -> int`: its errors become one line and exit
    code 2, and the code is returned rather than raised, so tests call `main` in-process."""

    def wrap(main: Callable[[list[str] | None], int]) -> Callable[..., int]:
        @functools.wraps(main)
        def run(argv: list[str] | None = None) -> int:
            try:
                with user_errors(prog):
                    return main(argv)
            except SystemExit as done:  # ours, and argparse's (--help, a bad argument)
                return done.code if isinstance(done.code, int) else int(done.code is not None)

        return run

    return wrap


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        """One line, like every other error (argparse prints the usage first)."""
        self.exit(2, f"{self.prog}: error: {message} (--help lists the arguments)\n")


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argument parser whose errors are one line with exit code 2."""
    return _Parser(prog=prog, description=description)


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tracking-uri", help=STORE_HELP)


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """--sweep, --experiment and --tracking-uri: which sweep a command reads."""
    parser.add_argument("--sweep", help="the sweep's parent run id (default: the newest sweep)")
    parser.add_argument("--experiment", help="experiment name (default: from the config)")
    add_store_argument(parser)


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
