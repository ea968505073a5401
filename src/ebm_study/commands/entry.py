"""The console scripts (pyproject.toml): each parses its command line before it imports its
command, so --help and a bad argument answer in a fifth of a second (commands/parsers.py)
rather than after the 2-3 s of MLflow, pandas and scikit-learn that only the work needs. The
command parses the same arguments again, which costs nothing. Each returns the exit code,
as the commands' `main(argv)` do."""

from __future__ import annotations

import sys

from ebm_study import console
from ebm_study.commands import parsers


def _parsed(parser, argv: list[str] | None) -> tuple[list[str], int | None]:
    """The arguments, and the exit code when the parser already answered: --help (0), or a
    bad argument (one line, 2)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    console.quick_exit()
    try:
        parser.parse_args(argv)
    except SystemExit as done:
        return argv, done.code if isinstance(done.code, int) else int(done.code is not None)
    return argv, None


def report(argv: list[str] | None = None) -> int:
    argv, done = _parsed(parsers.report(), argv)
    if done is not None:
        return done
    from ebm_study.commands import report

    return report.main(argv)


def predict(argv: list[str] | None = None) -> int:
    argv, done = _parsed(parsers.predict(), argv)
    if done is not None:
        return done
    from ebm_study.commands import predict

    return predict.main(argv)


def promote(argv: list[str] | None = None) -> int:
    argv, done = _parsed(parsers.promote(), argv)
    if done is not None:
        return done
    from ebm_study.commands import promote

    return promote.main(argv)


def migrate(argv: list[str] | None = None) -> int:
    argv, done = _parsed(parsers.migrate(), argv)
    if done is not None:
        return done
    from ebm_study.commands import migrate

    return migrate.main(argv)
