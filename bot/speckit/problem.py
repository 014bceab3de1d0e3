"""What goes wrong reading Spec Kit files: a Problem in a file, or a SpecError when nothing can be read."""

from __future__ import annotations

from dataclasses import dataclass

from bot.exceptions import FatalError


class SpecError(FatalError):
    """A feature or revision cannot be read at all (malformed text is a Problem, never this)."""


@dataclass(frozen=True)
class Problem:
    """Something wrong in a Spec Kit file, rendered as `file:line: what — fix`."""

    file: str
    line: int | None
    what: str
    fix: str
    code: str = "problem"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.what} — {self.fix}"
