"""A sweep's progress, shown by the launching process whatever the launcher: runs finished and
failed out of the total, elapsed time and an estimate of the time left.

It is read from the store, where every launcher's jobs write (basic, joblib, Ray): a thread of
the launching process counts the parent's children every few seconds. On a terminal it redraws
one bar; otherwise (CI, a log file) it prints a plain line each time the counts change.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TextIO

from hydra.core.override_parser.overrides_parser import OverridesParser

from ebm_study import liveness
from ebm_study.console import duration


def total_jobs(overrides: Iterable[str], sweeper_params: Mapping[str, object] | None) -> int:
    """How many jobs a basic-sweeper grid launches: the product of every swept key's values
    (`hydra.sweeper.params` first, the command line overriding it, as Hydra does)."""
    values: dict[str, int] = {}
    lines = [f"{k}={v}" for k, v in (sweeper_params or {}).items()] + list(overrides)
    for override in OverridesParser.create().parse_overrides(lines):
        key = override.key_or_group
        if override.is_sweep_override():
            values[key] = len(list(override.sweep_string_iterator()))
        else:
            values.pop(key, None)
    return max(1, math.prod(values.values()))


@dataclass(frozen=True)
class Counts:
    finished: int
    failed: int
    running: int


def line(
    counts: Counts, total: int | None, elapsed: float, done_at_start: int, width: int = 0
) -> str:
    """`7/16 runs finished, 1 failed, 2 running; 1 min 5 s elapsed, about 1 min 20 s left`,
    with a bar of `width` characters in front when asked. The estimate is from the runs this
    launch finished (a resumed sweep's earlier ones took no time now). With no `total` (seeds on
    demand: how many runs is what the sweep finds out) there is no bar and no estimate."""
    done = counts.finished + counts.failed
    if total is None:
        text = f"{counts.finished} runs finished"
        if counts.failed:
            text += f", {counts.failed} failed"
        if counts.running:
            text += f", {counts.running} running"
        return f"{text}; {duration(elapsed)} elapsed"
    text = f"{counts.finished}/{total} runs finished"
    if counts.failed:
        text += f", {counts.failed} failed"
    if counts.running:
        text += f", {counts.running} running"
    text += f"; {duration(elapsed)} elapsed"
    new = done - done_at_start
    if new > 0 and done < total:
        text += f", about {duration(elapsed / new * (total - done))} left"
    if width:
        filled = round(width * min(done, total) / total)
        text = f"[{'#' * filled}{'.' * (width - filled)}] {text}"
    return text


class Reporter:
    """Counts the sweep's runs every `interval` seconds in a thread, and shows them on `out`."""

    def __init__(
        self,
        count: Callable[[], Counts],
        total: int | None,
        out: TextIO = sys.stderr,
        interval: float = 2.0,
    ) -> None:
        self._count, self._total, self._out, self._interval = count, total, out, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = time.monotonic()
        self._last: Counts | None = None
        self._done_at_start = 0
        self._terminal = bool(getattr(out, "isatty", lambda: False)())

    def start(self) -> None:
        first = self._safe_count()
        self._done_at_start = first.finished + first.failed if first else 0
        self._thread = threading.Thread(target=self._run, name="sweep-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop counting; show the last counts if they changed (or redraw the bar)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._show()
        if self._terminal:
            self._out.write("\n")
            self._out.flush()

    def _run(self) -> None:
        wait = self._interval
        while not self._stop.wait(wait):
            began = time.monotonic()
            with liveness.UNFORKED:
                self._show()
            # A count that takes long (a sweep of thousands of runs, a far server) is asked
            # for less often: at most a tenth of the launching process's time goes to it.
            wait = max(self._interval, 10 * (time.monotonic() - began))

    def _safe_count(self) -> Counts | None:
        try:
            return self._count()
        except Exception:  # noqa: BLE001 - a store blip must not stop the sweep; next tick
            return None

    def _show(self) -> None:
        counts = self._safe_count()
        if counts is None or (counts == self._last and not self._terminal):
            return
        self._last = counts
        elapsed = time.monotonic() - self._start
        if self._terminal:
            text = line(counts, self._total, elapsed, self._done_at_start, width=30)
            self._out.write(f"\r{text}\033[K")
        else:
            text = line(counts, self._total, elapsed, self._done_at_start)
            self._out.write(f"progress: {text}\n")
        self._out.flush()
