"""The study's pictures as PNG files, drawn on the machine's cores at once.

Drawing is most of what the study costs after a sweep (about 0.15 s a picture, 16 pictures for
`make run`'s 40 runs, on one core while the others idle). The figures are made here in this
process; forked children, which inherit them, draw and encode them and send back the bytes. A
fork needs no imports and no pickled figures, and its children leave with `os._exit`, so no
atexit handler of the launch (one closes the sweep's parent run) runs in them (only the
thread-exit hooks of Python's own pools, which wake their parent's pool threads to no harm).
Where there is no fork, one core, or too few pictures to pay for it, they are drawn here one by
one, as they are if a child fails.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from matplotlib.figure import Figure

from ebm_study.fit import model
from ebm_study.study.page import png

log = logging.getLogger(__name__)
AT_LEAST = 4  # fewer pictures are drawn here: a child costs about 10 ms to fork
_FIGURES: list[Figure] = []  # what the forked children draw, by position


def pngs(figures: Mapping[str, Figure], workers: int | None = None) -> dict[str, bytes]:
    """Every figure as PNG bytes (page.png), in the mapping's order."""
    names = list(figures)
    n = min(workers or model.cores() or 1, len(names))
    if n < 2 or len(names) < AT_LEAST or "fork" not in multiprocessing.get_all_start_methods():
        return {name: png(figures[name]) for name in names}
    _FIGURES[:] = [figures[name] for name in names]
    try:
        with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) as pool:
            drawn = list(pool.map(_draw, range(len(names))))
    except (BrokenProcessPool, OSError) as err:  # a child killed, no memory to fork
        log.warning("drawing the study's pictures in one process: %s", err)
        drawn = [png(figure) for figure in _FIGURES]
    finally:
        _FIGURES.clear()
    return dict(zip(names, drawn, strict=True))


def _draw(i: int) -> bytes:
    return png(_FIGURES[i])
