"""Errors a user can fix: reported as one line, never as a traceback."""


class UserError(ValueError):
    """Bad input: a config value, a file or a column. The message names it and what is allowed."""
