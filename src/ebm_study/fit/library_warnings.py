"""Warnings the libraries raise while a job fits (interpret's "Missing values detected ..." on
every fit of a table with gaps): caught, kept on the run, and told once a sweep, not once a job.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

MAX_CHARS = 200  # of a warning: its sentences up to this many characters


@contextmanager
def caught() -> Iterator[list[str]]:
    """Inside, warnings are recorded instead of printed; on leaving, the list holds each
    distinct one once, as `Category: first line`."""
    found: list[str] = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        # What Python hides by default stays hidden: the libraries' deprecations are theirs.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        try:
            yield found
        finally:  # a fit that fails keeps what was said before it did
            lines = (f"{w.category.__name__}: {short(str(w.message))}" for w in seen)
            found.extend(dict.fromkeys(lines))


def short(message: str) -> str:
    """A warning's first line, cut after its last whole sentence within MAX_CHARS (interpret's
    missing-values warning is five lines of advice on its own plots)."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    if len(line) <= MAX_CHARS:
        return line
    cut = line[:MAX_CHARS].rfind(". ")
    return line[: cut + 1] if cut > 0 else line[:MAX_CHARS] + "..."


def tally(per_run: Iterable[str | None]) -> list[tuple[str, int]]:
    """Each distinct warning over a sweep's runs (each run's newline-separated list, or None)
    with how many runs raised it, the most frequent first."""
    counts: Counter[str] = Counter()
    for text in per_run:
        counts.update({line for line in (text or "").splitlines() if line})
    return counts.most_common()
