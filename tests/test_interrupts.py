"""Stop signals: SIGTERM unwinds like Ctrl-C and is remembered; an ignored SIGINT stays so."""

import os
import signal
import time

import pytest

from ebm_study import interrupts


@pytest.fixture
def handlers(monkeypatch):
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    monkeypatch.setattr(interrupts, "_received", None)
    yield
    for number, handler in before.items():
        signal.signal(number, handler)


def test_sigterm_raises_keyboard_interrupt_and_is_remembered(handlers):
    interrupts.install()
    assert not interrupts.received()
    with pytest.raises(KeyboardInterrupt, match="signal 15"):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert interrupts.received()
    with pytest.raises(KeyboardInterrupt):
        interrupts.check()


def test_an_ignored_sigint_stays_ignored(handlers):
    """`nohup ebm-study -m ...` or a shell's background job: Ctrl-C is not meant for it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    interrupts.install()
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
