"""Ctrl-C and SIGTERM stop a job, even when a library swallows the KeyboardInterrupt.

Python raises KeyboardInterrupt at the next bytecode after the signal. When that bytecode is in
a callback that native code makes (interpret's log callback catches every exception), the
interrupt is lost: the fit goes on to the end, or fails later with an unrelated error, and the
sweep carries on as if nothing had been pressed. So the handler also records the signal, and
the code that runs jobs asks `received()` and `check()` where it can act on it.
"""

from __future__ import annotations

import signal

_received: int | None = None  # the signal that asked this process to stop


def install() -> None:
    """Handle SIGTERM (a scheduler, `kill`) like Ctrl-C, and both so they are not lost. An
    ignored SIGINT (`nohup`, a shell's background job) stays ignored."""
    signal.signal(signal.SIGTERM, _stop)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, _stop)


def _stop(signum: int, frame: object) -> None:
    global _received
    _received = signum
    raise KeyboardInterrupt(f"signal {signum}")


def received() -> bool:
    """Whether a stop signal came, even if its KeyboardInterrupt was swallowed."""
    return _received is not None


def check() -> None:
    """Raise KeyboardInterrupt if a stop signal came: call where a job can stop cleanly."""
    if _received is not None:
        raise KeyboardInterrupt(f"signal {_received}")
