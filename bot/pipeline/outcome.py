"""How a run ended (the harness's verdict), where it reports progress, and what asked for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.agent.ledger import Ledger
from bot.gates import GateResult


class Progress(Protocol):
    """Where a run reports its phases (the terminal, or the tracking comment on GitHub)."""

    def phase(self, name: str) -> None: ...

    def usage(self, ledger: Ledger, turns: int) -> None: ...


@dataclass(frozen=True)
class Request:
    """Untrusted text that shaped this run (issue body, revise request, answers), already labelled."""

    source: str
    text: str


@dataclass
class Outcome:
    """How a run ended; the harness's verdict, not the model's."""

    feature: str
    conclusion: str  # success | draft | clarification | stopped | refused
    report: dict[str, Any] | None
    gates: list[GateResult]
    ledger: Ledger
    turns: int = 0
    questions: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    phases: list[tuple[str, float]] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # changed files no commit took (not the agent's)

    @property
    def gates_passed(self) -> bool:
        return bool(self.gates) and all(g.passed for g in self.gates)
