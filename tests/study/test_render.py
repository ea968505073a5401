"""The study's pictures drawn in forked children (study/render.py): the same PNG files as
drawn here, and drawn here still when a child dies."""

from __future__ import annotations

import os

import numpy as np
from matplotlib.figure import Figure

from ebm_study.study import page, render


def figures(n: int = 6) -> dict[str, Figure]:
    out = {}
    for i in range(n):
        fig = Figure(figsize=(4, 3))
        ax = fig.subplots()
        ax.barh(np.arange(5), np.linspace(1, 0.2, 5) * (i + 1))
        ax.set_title(f"picture {i}: cost $ per $ unit")
        out[f"p{i}.png"] = fig
    return out


def test_forked_children_draw_the_same_files_in_the_same_order():
    drawn = figures()
    here = {name: page.png(fig) for name, fig in drawn.items()}
    forked = render.pngs(drawn, workers=2)
    assert list(forked) == list(drawn)
    assert forked == here


class _DiesInAChild(Figure):
    parent = os.getpid()

    def savefig(self, *args, **kwargs):
        if os.getpid() != self.parent:
            os._exit(1)  # a child killed (out of memory, a signal)
        return super().savefig(*args, **kwargs)


def test_a_child_that_dies_leaves_the_pictures_to_this_process(caplog):
    drawn = figures(5)
    dying = _DiesInAChild(figsize=(4, 3))
    dying.subplots().plot([0, 1], [1, 0])
    drawn["dies.png"] = dying
    out = render.pngs(drawn, workers=2)
    assert set(out) == set(drawn) and all(png.startswith(b"\x89PNG") for png in out.values())
    assert "drawing the study's pictures in one process" in caplog.text


def test_few_pictures_or_one_core_are_drawn_here(monkeypatch):
    def no_fork(*args, **kwargs):
        raise AssertionError("forked")

    monkeypatch.setattr(render, "ProcessPoolExecutor", no_fork)
    assert len(render.pngs(figures(render.AT_LEAST - 1), workers=2)) == render.AT_LEAST - 1
    assert len(render.pngs(figures(), workers=1)) == 6
