"""Is the process that holds a run (or a sweep's launch) still there? No MLflow.

A run records where it runs as a process token, `host|boot id|pid|start ticks`, and, while it
runs, a heartbeat (a time tag renewed every HEARTBEAT_SECONDS). On the machine that ran it the
token is decisive at once: the same boot, the pid alive, and the same start time (so a pid the
kernel reused for another process does not count). A run on another machine (a Ray node) cannot
be looked up from here; it is alive while its heartbeat is fresh, and taken for gone only after
STALE_AFTER_SECONDS without one, so a slow fit elsewhere is never closed by mistake.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

HEARTBEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 300.0  # ten missed beats: a run on another machine is taken for gone

# Held by a launch's own threads (heartbeats, the progress line) while they talk to the store
# or write: a fork (the joblib launcher's workers, the study's pictures) waits for them, so no
# child starts with a lock one of them held, which it could never take (SQLAlchemy's pool, a
# stream's buffer).
# A beat against a server that is restarting can retry for minutes: a fork waits for it at
# most FORK_WAIT_SECONDS, then goes ahead (the child then makes its own connections anyway).
UNFORKED = threading.Lock()
FORK_WAIT_SECONDS = 10.0
_taken = threading.local()


def _before_fork() -> None:
    _taken.value = UNFORKED.acquire(timeout=FORK_WAIT_SECONDS)


def _after_fork() -> None:
    if getattr(_taken, "value", False):
        _taken.value = False
        UNFORKED.release()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork
    )


def boot_id() -> str:
    """This boot of this machine (Linux); "" where unknown."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def start_ticks(pid: int) -> str:
    """When process `pid` started, in clock ticks since boot (Linux); "" where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces; the fields after its ")" are plain.
    return stat.rsplit(")", 1)[1].split()[19]


def token(pid: int | None = None) -> str:
    """This process (or `pid` on this machine) as `host|boot id|pid|start ticks`."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}|{boot_id()}|{pid}|{start_ticks(pid)}"


def describe(process: str) -> str:
    """`pid 1234 on host h` from a token."""
    host, _, pid, _ = (process.split("|") + ["", "", "", ""])[:4]
    return f"pid {pid} on {host}"


def is_alive(
    process: str | None,
    heartbeat: float | None,
    now: float | None = None,
    stale_after: float = STALE_AFTER_SECONDS,
) -> bool:
    """Whether the process behind a token is there: decided from the token on its own machine
    (same host and boot), else from the heartbeat's age (seconds since the epoch; None when
    none was written, as by runs logged before heartbeats: gone)."""
    now = time.time() if now is None else now
    if process:
        host, boot, pid, ticks = (process.split("|") + ["", "", "", ""])[:4]
        if host == socket.gethostname() and boot == boot_id() and pid.isdigit():
            if boot:  # Linux: the pid, and the same process (not a reused pid)
                return start_ticks(int(pid)) == ticks
            try:  # elsewhere: the pid alone
                os.kill(int(pid), 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
    return heartbeat is not None and now - heartbeat < stale_after


class Heartbeat:
    """Calls `beat()` now and every `interval` seconds in a daemon thread until `stop()`; a
    failing beat (a server restarting) is skipped, the next one tried."""

    def __init__(self, beat: Callable[[], None], interval: float = HEARTBEAT_SECONDS) -> None:
        self._beat, self._interval = beat, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with UNFORKED, contextlib.suppress(Exception):  # a missed beat; the run goes on
                self._beat()
            if self._stop.wait(self._interval):
                return
