"""What every console script and the sweep's callback share: bad input as one line with exit
code 2, argument parsers whose errors read the same, and a tally of slow work.

Every command reports bad input the same way, `<command>: error: <what and what is allowed>`
on stderr and exit code 2, whether the input came from its arguments, the config, the store or
a tracking server that refused the login. It lives on the ground floor so that the sweep's
callback (sweep/) and the console scripts (commands/) both use it without an upward import.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import gc
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from ebm_study.errors import UserError


@contextmanager
def user_errors(prog: str) -> Iterator[None]:
    """Inside: a UserError, or a tracking server's 401/403, ends the process with one line on
    stderr and exit code 2 (SystemExit, which Hydra's callbacks also let through)."""
    # Here, not at the top: a command's parser (commands/parsers.py) answers --help without
    # importing MLflow.
    from ebm_study.tracking import store

    try:
        with store.server_refusals():
            yield
    except UserError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def settle_imports() -> None:
    """Once a process has imported what its work needs: the garbage collector leaves those
    objects be. MLflow, scikit-learn, pandas and matplotlib leave about a million behind, and
    every full collection walks them again (0.2 s each, 1.8 s of a six-run sweep here); they
    live as long as the process anyway. A forked worker inherits them settled."""
    gc.freeze()


def quick_exit() -> None:
    """At a console script's start: when its process exits, Python no longer walks every
    object for reference cycles first (1.2 s with MLflow, scikit-learn and matplotlib
    imported; 0.08 s after this). Objects in cycles are then not finalised at exit, which the
    process is about to end anyway. Registered first, it runs after every other exit handler
    (one closes a sweep's parent run); so tests calling a script in-process lose nothing."""
    atexit.register(gc.freeze)


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


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class Tally:
    """Progress of work done item by item in the calling thread (a migration's runs, a large
    study's importance tables): `advance()` after each item. Quick work stays quiet: nothing is
    shown before `interval` seconds have passed, then at most once an interval, and a last line
    at `close()` if anything was shown."""

    def __init__(
        self, total: int, what: str, out: TextIO = sys.stderr, interval: float = 2.0
    ) -> None:
        self.total, self.what, self.done = max(0, total), what, 0
        self._out, self._interval = out, interval
        self._start = self._shown_at = time.monotonic()
        self._shown = False
        self._terminal = bool(getattr(out, "isatty", lambda: False)())

    def advance(self, n: int = 1) -> None:
        self.done += n
        if time.monotonic() - self._shown_at >= self._interval:
            self._show()

    def close(self) -> None:
        if self._shown:
            self._show()
            if self._terminal:
                self._out.write("\n")
                self._out.flush()

    def __enter__(self) -> Tally:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _show(self) -> None:
        self._shown, self._shown_at = True, time.monotonic()
        elapsed = self._shown_at - self._start
        text = f"{self.done}/{self.total}; {duration(elapsed)} elapsed"
        if 0 < self.done < self.total:
            text += f", about {duration(elapsed / self.done * (self.total - self.done))} left"
        if self._terminal:
            filled = round(30 * min(self.done, self.total) / max(1, self.total))
            self._out.write(f"\r{self.what}: [{'#' * filled}{'.' * (30 - filled)}] {text}\033[K")
        else:
            self._out.write(f"{self.what}: {text}\n")
        self._out.flush()
