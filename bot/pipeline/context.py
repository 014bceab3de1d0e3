"""What one workflow run works with (RunEnv), where a feature's work goes (Target), how a job ended."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.actions import Runtime
from bot.agent.ledger import Ledger
from bot.agent.model import Model
from bot.git import Identity, PushPolicy, Workdir
from bot.github.types import Host, PrInfo
from bot.pipeline.outcome import Request
from bot.report.runlog import RunLog
from bot.settings import Settings

EXIT_CODES = {"success": 0, "clarification": 0, "unchanged": 0, "checked": 0, "refused": 0}


@dataclass
class RunEnv:
    """What one workflow run has to work with, built by the composition root."""

    settings: Settings
    host: Host
    rt: Runtime
    workspace: Path
    remote_url: str
    repo_url: str
    run_url: str
    default_branch: str
    token: str
    make_model: Callable[[float], Model]
    started: float = field(default_factory=time.monotonic)
    transcripts: Path = field(default_factory=lambda: Path(".specship"))
    log: RunLog = field(default_factory=RunLog)  # the job log: phases, turns, tool calls, gates
    written: list[Path] = field(default_factory=list)  # this run's transcripts, for the output

    @property
    def deadline(self) -> float:
        return self.started + self.settings.timeout_minutes * 60

    @property
    def base_branch(self) -> str:
        return self.settings.base_branch or self.default_branch


@dataclass
class JobResult:
    """How one job ended, for the outputs, the job summary and the exit code."""

    conclusion: str
    branch: str | None = None
    pr: PrInfo | None = None
    ledger: Ledger | None = None
    phases: list[tuple[str, float]] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.conclusion, 1)


@dataclass(frozen=True)
class Target:
    """Where a feature's work goes and who asked for it."""

    feature: str
    branch: str
    issue: int | None  # the issue that asked (Closes #N), if any
    comment_on: int | None  # the issue or PR that carries the tracking comment (None: a push)
    requester: str | None
    request: Request | None = None
    answers: str | None = None
    revise: str | None = None
    review_comments: tuple[Mapping[str, object], ...] = ()
    delta: str = ""  # what a push changed in the spec (an edited feature), for the prompt


def workdir(run: RunEnv) -> Workdir:
    """The checkout Specship writes, pushing only to its own branches."""
    return Workdir(
        run.workspace,
        remote_url=run.remote_url,
        token=run.token,
        identity=Identity(run.settings.git_user_name, run.settings.git_user_email),
        runtime=run.rt,
        policy=PushPolicy(
            prefix=run.settings.branch_prefix,
            default_branch=run.default_branch,
            base_branch=run.base_branch,
        ),
        retry_command=f"{run.settings.command_prefix} retry",
    )
