"""A sweep's progress from the store, for any launcher: the total from the grid, counts, time
left, a bar on a terminal and plain lines elsewhere."""

import io
import time

from conftest import Tty, wait_for

from ebm_study.console import duration
from ebm_study.sweep.progress import Counts, Reporter, line, total_jobs


def test_the_total_is_the_grid_hydra_launches():
    assert total_jobs(["split_seed=range(4)", "model.learning_rate=0.01,0.05"], None) == 8
    params = {"split_seed": "range(4)", "model_seed": "range(2)"}
    assert total_jobs(["experiment=quick"], params) == 8
    assert total_jobs(["model_seed=0"], params) == 4  # a fixed value on the command line wins
    assert total_jobs([], None) == 1


def test_a_line_says_done_failed_running_elapsed_and_left():
    text = line(Counts(finished=6, failed=1, running=2), 16, 70.0, done_at_start=0)
    assert text == (
        "6/16 runs finished, 1 failed, 2 running; 1 min 10 s elapsed, about 1 min 30 s left"
    )
    # A resumed sweep: the 4 runs done before this launch took no time now.
    assert line(Counts(6, 0, 0), 8, 20.0, done_at_start=4).endswith("about 20 s left")
    assert line(Counts(2, 0, 0), 4, 5.0, 0, width=8).startswith("[####....] 2/4")
    assert duration(3725) == "1 h 2 min"


def counts_from(sequence):
    values = iter(sequence)
    last = [Counts(0, 0, 0)]

    def count() -> Counts:
        last[0] = next(values, last[0])
        return last[0]

    return count


def test_plain_lines_only_when_the_counts_change():
    out = io.StringIO()
    steps = [Counts(0, 0, 0), Counts(0, 0, 2), Counts(0, 0, 2), Counts(1, 0, 1), Counts(2, 0, 0)]
    reporter = Reporter(counts_from(steps), 2, out=out, interval=0.01)
    reporter.start()
    time.sleep(0.3)
    reporter.stop()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("progress: 0/2 runs finished, 2 running")
    assert lines[-1].startswith("progress: 2/2 runs finished;")
    assert len(lines) == len(set(lines))  # no line repeats counts already shown


def test_a_terminal_gets_one_redrawn_bar():
    out = Tty()
    reporter = Reporter(counts_from([Counts(0, 0, 0), Counts(1, 0, 1)]), 2, out=out, interval=0.01)
    reporter.start()
    time.sleep(0.1)
    reporter.stop()
    text = out.getvalue()
    assert text.startswith("\r[") and "\n" not in text.rstrip("\n") and text.endswith("\n")
    assert "[###############...............] 1/2 runs finished" in text


def test_a_store_blip_skips_a_tick_and_the_sweep_goes_on():
    calls = []

    def flaky() -> Counts:
        calls.append(1)
        if len(calls) == 2:
            raise OSError("connection reset")
        return Counts(len(calls), 0, 0)

    out = io.StringIO()
    reporter = Reporter(flaky, 9, out=out, interval=0.01)
    reporter.start()
    assert wait_for(lambda: len(calls) >= 4, timeout=10)  # it kept counting after the blip
    assert reporter._thread.is_alive()
    reporter.stop()
    text = out.getvalue()
    # The first count is where the sweep starts; the second failed: that tick is skipped.
    assert "progress: 3/9 runs finished" in text and "progress: 4/9 runs finished" in text
    assert "progress: 2/9" not in text and "connection reset" not in text


def test_a_slow_count_is_asked_for_less_often():
    calls = []

    def slow() -> Counts:
        calls.append(time.monotonic())
        time.sleep(0.02)
        return Counts(len(calls), 0, 0)

    reporter = Reporter(slow, 99, out=io.StringIO(), interval=0.001)
    reporter.start()
    time.sleep(0.6)
    reporter.stop()
    ticks = calls[1:-1]  # the first is start()'s, the last stop()'s
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert gaps and min(gaps) >= 0.2  # ten times the 0.02 s a count took
