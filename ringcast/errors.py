"""Errors a user can act on.

A `UserError` carries one line that names the cause and the fix; the CLI prints it
without a traceback and exits non-zero. Anything else is a bug.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix: bad input, missing prerequisite, unreachable service."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message
