"""The gates: the harness's own verdict (tests, security, auth, contracts, guard) and its vocabulary."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bot.gates.share import RunShare

if TYPE_CHECKING:
    from bot.settings import Settings

Severity = Literal["error", "warning", "notice"]
# Every gate answers one of these; "not verified" is never green (see docs/gates.md).
Verdict = Literal["pass", "fail", "not verified"]
# Whose change the gates judge: Specship's agent (every rule), or a human's (`specship check` on a
# human's pull request: the agent-only path rules follow `human-protected-paths`).
Author = Literal["agent", "human"]
VERDICTS: tuple[Verdict, ...] = ("pass", "fail", "not verified")
LABELS: dict[Verdict, str] = {"pass": "PASS", "fail": "FAIL", "not verified": "NOT VERIFIED"}
# When a gate did not run and said nothing more precise, this is what the user can do.
FIX_UNKNOWN = "read the gate's summary in the job log; it names what stopped the check"


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
class Unverified:
    """Something a gate could not check, and the one setting or fix that makes it checkable."""

    what: str
    fix: str
    file: str | None = None
    line: int | None = None
    rule: str = "not-verified"

    @property
    def location(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""

    def render(self) -> str:
        where = self.location
        text = f"{self.what} (fix: {self.fix})"
        return f"{where}: {text}" if where else text


@dataclass(frozen=True)
class GateResult:
    """A gate's verdict: fail on any error finding, else not verified when something went unchecked."""

    name: str
    summary: str
    findings: tuple[Finding, ...] = ()
    ran: bool = True
    seconds: float = 0.0
    details: dict[str, object] = field(default_factory=dict, compare=False)
    unverified: tuple[Unverified, ...] = ()

    def __post_init__(self) -> None:
        # A gate that did not run must say why: "did not run" may never read as a pass.
        if not self.ran and not self.unverified:
            gap = Unverified(f"the {self.name} gate did not run: {self.summary}", FIX_UNKNOWN)
            object.__setattr__(self, "unverified", (gap,))

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def verdict(self) -> Verdict:
        if self.errors:
            return "fail"
        if self.unverified or not self.ran:
            return "not verified"
        return "pass"

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def label(self) -> str:
        return LABELS[self.verdict]


@dataclass(frozen=True)
class GateContext:
    """What every gate gets: the work tree, the base revision of the change, settings, feature."""

    repo: Path
    base: str | None
    settings: Settings
    feature: str | None = None
    python: str = sys.executable  # the project's interpreter (a setup-command venv, or ours)
    env: Mapping[str, str] = field(default_factory=dict)  # test-env and the venv's variables (ProjectEnv)
    author: Author = "agent"  # the strict default: only `check` on a human's change says otherwise
    # What the run computes once (test runs by content, the private index, one gate run's diffs)
    share: RunShare = field(default_factory=RunShare, compare=False, repr=False)

    @property
    def app_dir(self) -> Path:
        return (self.repo / self.settings.app_directory).resolve()
