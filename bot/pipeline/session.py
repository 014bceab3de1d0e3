"""One implementation run on a prepared branch, alike for local mode and GitHub: budget, rounds, commit."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot import git, sandbox
from bot.agent.ledger import Ledger, price_for
from bot.agent.loop import Limits
from bot.agent.model import Model
from bot.agent.transcript import Transcript
from bot.git import Workdir
from bot.pipeline.outcome import Outcome, Progress
from bot.pipeline.prompt import tick_tasks_done
from bot.pipeline.rounds import GateRunner, Pipeline, default_gates
from bot.redact import Redactor
from bot.report.runlog import RunLog
from bot.settings import Settings
from bot.speckit.api import Feature

MIN_SECONDS = 60.0  # a run that starts late still gets one minute, never a negative budget


@dataclass
class FeatureRun:
    """The agent and the gates on one feature, in a work tree Specship owns; work is never thrown away.

    Local mode and the GitHub flow both build one of these: they differ only in how the branch is
    prepared before and what is published after (a PR body file, or a pull request).
    """

    workdir: Workdir
    settings: Settings
    feature: Feature
    base: str
    model: Model
    progress: Progress
    transcript_path: Path
    redactor: Redactor
    deadline: float  # time.monotonic() value at which the run's wall-time budget ends
    gates: GateRunner = default_gates
    clock: Callable[[], float] = time.monotonic
    log: RunLog | None = None  # the job log / terminal: every turn, tool call and gate as it happens
    setup_info: Callable[[str], None] | None = None  # each setup command's line (None: the job log)
    ledger: Ledger = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.ledger = Ledger(
            price_for(
                self.model.name.removeprefix("scripted:"),
                s.input_price_per_mtok,
                s.output_price_per_mtok,
                family=self.model.family,
            )
        )

    @property
    def repo(self) -> Path:
        return self.workdir.path

    def limits(self) -> Limits:
        s = self.settings
        return Limits(
            s.max_turns, s.max_cost_usd, max(self.deadline - self.clock(), MIN_SECONDS), s.max_tokens
        )

    def run(self, task: str) -> Outcome:
        """Set up the project's environment, run agent and gates; on any exception, checkpoint first."""
        observer = None
        if self.log is not None:
            self.log.ledger = self.ledger  # "cost so far" is the ledger's, failed attempts included
            observer = self.log.event
        transcript = Transcript(self.transcript_path, self.redactor, observer)
        git.reset_written(self.repo)  # what this run's agent writes is all its commits may hold
        try:
            # No sandboxed process (setup, tools, gates) outlives the run's time budget.
            budget = time.monotonic() + max(self.deadline - self.clock(), MIN_SECONDS)
            self.progress.phase("setup")
            with (
                sandbox.applied_policy(deadline=budget),
                sandbox.project_environment(self.repo, self.settings, info=self.setup_info) as project,
            ):
                pipeline = Pipeline(
                    self.repo,
                    self.settings,
                    self.model,
                    self.ledger,
                    transcript,
                    self.progress,
                    gates=self.gates,
                    python=project.python,
                    env=project.env,
                    clock=self.clock,
                    log=self.log,
                )
                limits = self.limits()
                # The agent's limit and the sandbox's deadline are the same moment, and generated
                # code gets the configured network (setup-command above keeps the runner's:
                # installing packages needs the index, migrations the database).
                deadline = time.monotonic() + limits.max_seconds
                with sandbox.applied_policy(deadline=deadline, network=self.settings.sandbox_network):
                    return pipeline.run(self.feature, task, self.base, limits)
        except BaseException as exc:
            # Cancelled, out of budget at the API, or a bug: the agent's edits so far are committed.
            self.workdir.checkpoint(
                f"Specship stopped on {self.feature.name}: {type(exc).__name__}",
                paths=git.written_paths(self.repo),
            )
            raise

    def commit(self, outcome: Outcome, message: str) -> None:
        """Commit the agent's files; a passing run also ticks the feature's tasks, as a commit of its
        own. Anything else that changed in the work tree is left out, and listed in the outcome."""
        self.workdir.commit_paths(git.written_paths(self.repo), message)
        if outcome.conclusion == "success":
            tasks = self.feature.file("tasks.md")
            tick_tasks_done(self.repo, self.feature, lambda text: self.workdir.commit_paths([tasks], text))
        outcome.left_out = self.workdir.uncommitted()
