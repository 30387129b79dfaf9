"""Errors a user can cause: a bad scenario, portfolio or debt file.

Every such error names the file, the field (or line) and what is allowed, and
renders as one line. The command lines print it and exit with code 2.
"""

from __future__ import annotations


class ScenarioError(ValueError):
    """A user's input is wrong; ``str(err)`` is the one line to show them."""

    def __init__(self, source: str, field: str, message: str):
        self.source = _one_line(str(source))
        self.field = _one_line(str(field))
        self.message = " ".join(str(message).split())
        super().__init__(self.line())

    def line(self) -> str:
        where = f"{self.source}: {self.field}" if self.field else self.source
        return f"{where}: {self.message}"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.line()


def _one_line(text: str) -> str:
    """Escape line breaks and other unprintable characters (a TOML key may hold them)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
