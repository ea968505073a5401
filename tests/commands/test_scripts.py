"""Every console script pyproject.toml installs is there and answers --help: the installed
wrapper (beside this Python, pointing at its entry point) and the entry point itself. One script
runs in its own process as a user runs it; the rest are called in-process, where starting each
would pay the same imports again (about 2.5 s of CPU a script)."""

import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from conftest import run_cli

SCRIPTS = {
    e.name: e for e in entry_points(group="console_scripts") if e.value.startswith("ebm_study.")
}


def test_every_command_is_installed_beside_this_python():
    assert sorted(SCRIPTS) == [
        "ebm-study", "ebm-study-migrate", "ebm-study-predict", "ebm-study-promote",
        "ebm-study-report",
    ]  # fmt: skip
    for name, entry in SCRIPTS.items():
        wrapper = Path(sys.executable).with_name(name)
        assert wrapper.is_file(), wrapper
        module = entry.value.split(":")[0]
        assert module in wrapper.read_text(), (wrapper, module)


def test_the_sweep_command_answers_help_in_its_own_process():
    out = run_cli("--help", program="ebm-study")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Powered by Hydra" in out.stdout, out.stdout


@pytest.mark.parametrize("script", sorted(set(SCRIPTS) - {"ebm-study"}))
def test_every_other_command_answers_help(script, capsys):
    assert SCRIPTS[script].load()(["--help"]) == 0
    assert ("usage: " + script) in capsys.readouterr().out
