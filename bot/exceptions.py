"""User-facing errors and the agent's flow exceptions."""

from __future__ import annotations

from typing import Any


class FatalError(Exception):
    """A user mistake or an environment problem: states the cause and the fix; exits 1.

    `file` and `line` (repository-relative) place the mistake, when it is in a file: in Actions
    the error becomes an annotation on that line."""

    def __init__(self, cause: str, fix: str, *, file: str | None = None, line: int | None = None) -> None:
        super().__init__(f"{cause} {fix}".strip())
        self.cause = cause
        self.fix = fix
        self.file = file
        self.line = line

    def at(self, file: str | None, line: int | None = None) -> FatalError:
        """This error placed in `file` (at `line`), unless it already knows where it is."""
        if self.file is None and file:
            self.file, self.line = file, line
        return self


class AgentStop(Exception):
    """Base of the exceptions that end the agent loop; the message is the reason."""


class Submitted(AgentStop):
    """The model called submit_report with a valid report."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__("the model submitted its report")
        self.report = report


class NeedsClarification(AgentStop):
    """The model asked 2-3 questions; the run stops until someone answers."""

    def __init__(self, questions: list[str]) -> None:
        super().__init__("the model asked for clarification:\n" + "\n".join(questions))
        self.questions = questions


class LimitReached(AgentStop):
    """A turn, cost or wall-time limit was hit; the work so far is kept."""


class ModelRefused(AgentStop):
    """The model declined the request (stop_reason refusal)."""


class ModelTruncated(AgentStop):
    """The model's output was cut off repeatedly or the context window was exceeded."""
