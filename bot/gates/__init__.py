"""The gates: the harness's own verdict (tests, security, auth, contracts, guard) and its vocabulary."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.settings import Settings

Severity = Literal["error", "warning", "notice"]


@dataclass(frozen=True)
class Finding:
    """One problem a gate found, with its place in the repository when it has one."""

    message: str
    file: str | None = None
    line: int | None = None
    severity: Severity = "error"
    rule: str = ""

    @property
    def location(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""

    def render(self) -> str:
        where = self.location
        return f"{where}: {self.message}" if where else self.message


@dataclass(frozen=True)
class GateResult:
    """A gate's verdict: passed only when it found no error-level finding and could run."""

    name: str
    summary: str
    findings: tuple[Finding, ...] = ()
    ran: bool = True
    seconds: float = 0.0
    details: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def passed(self) -> bool:
        return self.ran and not self.errors


@dataclass(frozen=True)
class GateContext:
    """What every gate gets: the work tree, the base revision of the change, settings, feature."""

    repo: Path
    base: str | None
    settings: Settings
    feature: str | None = None
    python: str = sys.executable  # the project's interpreter (a setup-command venv, or ours)
    env: Mapping[str, str] = field(default_factory=dict)  # test-env and the venv's variables (ProjectEnv)

    @property
    def app_dir(self) -> Path:
        return (self.repo / self.settings.app_directory).resolve()
