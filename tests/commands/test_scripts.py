"""Every console script pyproject.toml installs starts and answers --help, as a user runs it:
the installed script, in its own process (the other tests call most commands in-process)."""

from importlib.metadata import entry_points

import pytest
from conftest import run_cli

SCRIPTS = sorted(
    e.name for e in entry_points(group="console_scripts") if e.value.startswith("ebm_study.")
)


def test_every_command_is_installed():
    assert SCRIPTS == [
        "ebm-study", "ebm-study-migrate", "ebm-study-predict", "ebm-study-promote",
        "ebm-study-report",
    ]  # fmt: skip


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_command_answers_help(script):
    out = run_cli("--help", program=script)
    assert out.returncode == 0, out.stderr[-2000:]
    assert ("usage: " + script) in out.stdout or "Powered by Hydra" in out.stdout, out.stdout
