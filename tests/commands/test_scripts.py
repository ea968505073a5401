"""Every console script pyproject.toml installs is there and answers --help: the installed
wrapper (beside this Python, pointing at its entry point) and the entry point itself. One script
runs in its own process as a user runs it; the rest are called in-process, where starting each
would pay the same imports again (about 2.5 s of CPU a script)."""

import subprocess
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


# What the work needs and a command's --help must not wait for (2-3 s here; issue 28's
# target is half a second): parsing comes first (commands/entry.py, commands/train.py).
HEAVY = ("mlflow", "sklearn", "interpret", "matplotlib", "pandas", "skops")


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_help_and_a_bad_argument_import_none_of_the_work(script):
    entry = SCRIPTS[script]
    module, function = entry.value.split(":")
    probe = (
        "import sys\n"
        f"from {module} import {function} as run\n"
        f"for argv in (['--help'], ['--no-such-argument']):\n"
        "    sys.argv = ['x', *argv]\n"
        "    try:\n"
        "        code = run()\n"
        "    except SystemExit as done:\n"
        "        code = done.code\n"
        "    print(argv[0], code)\n"
        f"print('heavy', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "heavy []" in out.stdout, (out.stdout, out.stderr[-2000:])
    assert "--help 0" in out.stdout, out.stdout
    assert "--no-such-argument 2" in out.stdout, (out.stdout, out.stderr[-2000:])
