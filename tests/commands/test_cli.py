"""Every command reports bad input the same way: one line on stderr, exit code 2."""

import pytest

from ebm_study import console
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
