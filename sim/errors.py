"""Errors a user can cause: a bad scenario, portfolio, debt file, option, path or store.

Every such error is an :class:`InputError`: it names the file (or the command
line, the option, the store), the field (or line) and what is allowed, and
renders as one line. The command lines print it and exit with code 2.
"""

from __future__ import annotations


class InputError(ValueError):
    """A user's input is wrong; ``str(err)`` is the one line ``source: field: message`` to show them."""

    def __init__(self, source: str, field: str, message: str):
        self.source = printable(str(source))
        self.field = printable(str(field))
        # Messages quote what the user wrote; ANSI escapes or a carriage return
        # in a name must not reach the terminal raw.
        self.message = printable(" ".join(str(message).split()))
        super().__init__(self.line())

    def line(self) -> str:
        where = f"{self.source}: {self.field}" if self.field else self.source
        return f"{where}: {self.message}"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.line()


class FieldError(ValueError):
    """Raised inside a schema's validator to name the field at fault (``debts.0.name``, ``teams.a``).

    The loaders turn it into an :class:`InputError` with that field instead of
    the field pydantic was validating when it was raised.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(message)


ScenarioError = InputError
"""The former name of :class:`InputError`, kept as an alias for one release (0.2 removes it).

It was the only user error when only scenarios could be wrong; store locks,
executors and staffing options raised it too, where the name no longer fits.
"""


def printable(text: str) -> str:
    """``text`` with line breaks, ANSI escapes and other unprintable characters escaped.

    A file name, a TOML key or a CSV cell may hold them; each becomes its
    ``repr`` form (``\\x1b``, ``\\n``, ``\\u202e``), so an error line stays one line
    and cannot recolour, move the cursor or reorder the user's terminal.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def error_line(text: str) -> str:
    """The ``error: …`` line a command prints on stderr for a user's mistake."""
    return f"error: {printable(text)}"
