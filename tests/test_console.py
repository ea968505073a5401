"""What every command shares: bad input as one line on stderr with exit code 2, and a tally of
slow work that stays quiet when the work is quick."""

import io

import pytest
from conftest import Tty

from ebm_study import console
from ebm_study.console import Tally
from ebm_study.errors import UserError


@console.command("demo")
def demo(argv=None) -> int:
    parser = console.parser("demo", "a command for this test")
    parser.add_argument("--n", type=int, required=True)
    args = parser.parse_args(argv)
    if args.n < 0:
        raise UserError(f"--n={args.n} must be >= 0")
    return 0


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--n", "-1"], "demo: error: --n=-1 must be >= 0"),
        (["--n", "x"], "demo: error: argument --n: invalid int value: 'x' (--help lists"),
        ([], "demo: error: the following arguments are required: --n (--help lists"),
    ],
)
def test_errors_are_one_line_and_exit_2(argv, line, capsys):
    assert demo(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith(line), err


def test_success_and_help_return_0(capsys):
    assert demo(["--n", "1"]) == 0
    assert demo(["--help"]) == 0
    assert "a command for this test" in capsys.readouterr().out


def test_user_errors_raise_system_exit_2_for_hydra_code(capsys):
    with pytest.raises(SystemExit) as done, console.user_errors("ebm-study"):
        raise UserError("top_k=0 must be a whole number >= 1")
    assert done.value.code == 2
    assert capsys.readouterr().err == "ebm-study: error: top_k=0 must be a whole number >= 1\n"


def test_other_errors_are_not_hidden():
    with pytest.raises(ZeroDivisionError), console.user_errors("ebm-study"):
        1 / 0  # noqa: B018


def test_quick_work_item_by_item_stays_quiet():
    out = io.StringIO()
    with Tally(100, "migrate: runs", out=out, interval=60) as tally:
        for _ in range(100):
            tally.advance()
    assert out.getvalue() == ""


def test_slow_work_item_by_item_shows_plain_lines_then_the_end():
    out = io.StringIO()
    with Tally(4, "study: importance tables read", out=out, interval=0.0) as tally:
        tally.advance()
        tally.advance(3)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("study: importance tables read: 1/4; 0 s elapsed, about")
    assert lines[-1] == "study: importance tables read: 4/4; 0 s elapsed"


def test_slow_work_on_a_terminal_redraws_one_bar():
    out = Tty()
    with Tally(2, "migrate: runs", out=out, interval=0.0) as tally:
        tally.advance()
        tally.advance()
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert "\rmigrate: runs: [##############################] 2/2" in text
