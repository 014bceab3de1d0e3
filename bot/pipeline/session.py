"""One implementation run on a prepared branch, alike for local mode and GitHub: budget, rounds, commit."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot import sandbox
from bot.agent.ledger import Ledger, price_for
from bot.agent.loop import Limits
from bot.agent.model import Model
from bot.agent.transcript import Transcript
from bot.git import Workdir
from bot.pipeline.outcome import Outcome, Progress
from bot.pipeline.prompt import tick_tasks_done
from bot.pipeline.rounds import GateRunner, Pipeline, default_gates
from bot.redact import Redactor
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
        transcript = Transcript(self.transcript_path, self.redactor)
        try:
            self.progress.phase("setup")
            with sandbox.project_environment(self.repo, self.settings) as project:
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
                )
                return pipeline.run(self.feature, task, self.base, self.limits())
        except BaseException as exc:
            # Cancelled, out of budget at the API, or a bug: the edits so far are committed.
            self.workdir.checkpoint(f"Specship stopped on {self.feature.name}: {type(exc).__name__}")
            raise

    def commit(self, outcome: Outcome, message: str) -> None:
        """Commit the work; a passing run also ticks the feature's tasks, as a commit of its own."""
        self.workdir.commit_all(message)
        if outcome.conclusion == "success":
            tick_tasks_done(self.repo, self.feature, self.workdir.commit_all)
