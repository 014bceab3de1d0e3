"""One feature, start to finish on a work tree: prompt, agent, gates with repair rounds, verdict."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.agent import prompts
from bot.agent.loop import Agent, Limits
from bot.agent.model import Ledger, Model
from bot.agent.repomap import repo_map
from bot.agent.tools import Toolbox, ToolResult
from bot.agent.transcript import Transcript
from bot.exceptions import AgentStop, FatalError, ModelRefused, NeedsClarification, Submitted
from bot.gates import GateContext, GateResult, acceptance
from bot.gates import pytest as pytest_gate
from bot.git import read as gitread
from bot.sandbox.paths import Workspace
from bot.sanitize import sanitize
from bot.settings import Settings
from bot.speckit import api as specs

GateRunner = Callable[[GateContext], list[GateResult]]
TEST_OUTPUT_TAIL = 6_000


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

    @property
    def gates_passed(self) -> bool:
        return bool(self.gates) and all(g.passed for g in self.gates)


def feature_prompt(
    repo: Path,
    feature: specs.Feature,
    settings: Settings,
    *,
    base: str,
    request: Request | None = None,
    answers: str | None = None,
    delta_text: str = "",
) -> str:
    """The task prompt: feature documents, standards, constitution and a repository map."""

    def doc(name: str) -> str:
        raw = feature.raw.get(feature.file(name))
        return raw.decode("utf-8", "replace") if raw is not None else "(missing)"

    contracts = [
        {"path": c.path, "text": feature.raw.get(c.path, b"").decode("utf-8", "replace")}
        for c in feature.contracts
    ]
    standards = feature.standards
    constitution = feature.constitution
    return prompts.render(
        "implement.md",
        feature={"name": feature.name},
        base=base[:12],
        delta=delta_text,
        spec=doc("spec.md"),
        plan=doc("plan.md"),
        tasks=doc("tasks.md"),
        contracts=contracts,
        standards={"path": standards.path, "text": standards.text} if standards else None,
        constitution=constitution.text if constitution else "",
        repo_map=repo_map(repo),
        request={"source": request.source, "text": sanitize(request.text)} if request else None,
        answers=sanitize(answers) if answers else "",
        test_command=settings.test_command,
        app_directory=settings.app_directory,
    )


def load_ready_feature(repo: Path, name: str, rev: str | None, settings: Settings) -> specs.Feature:
    """Read a feature and refuse to implement it while it is not ready (every problem listed)."""
    feature = specs.read_feature(repo, name, rev)
    if feature.spec is None:
        raise FatalError(
            f"specs/{name}/spec.md does not exist{f' at {rev[:12]}' if rev else ''}.",
            "Create the feature with /speckit.specify, or name an existing feature folder.",
        )
    ready = specs.readiness(feature, settings.checklists)
    if not ready.ready:
        listing = "\n".join(f"- {p}" for p in ready.problems)
        raise FatalError(
            f"Feature {name} is not ready to implement:\n{listing}\n",
            "Resolve each item above in the spec (e.g. with /speckit.clarify), commit, and re-run.",
        )
    return feature


def tick_tasks_done(repo: Path, feature: specs.Feature, commit: Callable[[str], str | None]) -> None:
    """Mark the feature's open tasks done (only the checkbox bytes change), as a commit of its own."""
    if feature.tasks is None:
        return
    open_ids = [t.id for t in feature.tasks.all if not t.done]
    path = repo / feature.file("tasks.md")
    if open_ids and path.is_file():
        path.write_bytes(specs.tick_tasks(path.read_bytes(), open_ids))
        commit(f"Specship: mark {len(open_ids)} tasks of {feature.name} done")


def format_test_result(run: pytest_gate.TestRun) -> ToolResult:
    """A pytest run as the model sees it: counts, failing ids, and the tail of the output."""
    head = f"exit {run.returncode}: {run.count('passed')} passed, {len(run.failed)} failed"
    if run.timed_out:
        head += " (timed out)"
    failing = "".join(f"\nFAILED {node}" for node in run.failed[:30])
    tail = run.output[-TEST_OUTPUT_TAIL:]
    return ToolResult(f"{head}{failing}\n\n{tail}", is_error=run.returncode != 0 or not run.outcomes)


def format_gates(results: Sequence[GateResult]) -> str:
    """Gate results for the model, rendered from the gate feedback template's data."""
    lines = []
    for result in results:
        status = "passed" if result.passed else "FAILED"
        lines.append(f"{result.name}: {status} — {result.summary}")
        for finding in result.findings[:15]:
            lines.append(f"  - [{finding.severity}] {finding.render()}")
    return "\n".join(lines)


def default_gates(ctx: GateContext) -> list[GateResult]:
    """Every gate (pytest, security, fastapi_auth, contracts, guard)."""
    from bot.gates.run import run_all

    return run_all(ctx)


@dataclass
class Pipeline:
    """Runs the agent on one feature and judges the result with the gates, with repair rounds."""

    repo: Path
    settings: Settings
    model: Model
    ledger: Ledger
    transcript: Transcript
    progress: Progress
    gates: GateRunner = default_gates
    clock: Callable[[], float] = time.monotonic
    python: str = sys.executable  # the project's interpreter (see bot.sandbox.project_env)
    _verdicts: dict[str, list[GateResult]] = field(default_factory=dict)

    def run(self, feature: specs.Feature, task: str, base: str, limits: Limits) -> Outcome:
        ctx = GateContext(self.repo, base, self.settings, feature.name, self.python)
        outcome = Outcome(feature.name, "stopped", None, [], self.ledger)
        started = self.clock()

        def run_tests(node_ids: Sequence[str]) -> ToolResult:
            try:
                return format_test_result(
                    pytest_gate.run_tests(
                        self.repo,
                        self.settings.test_command,
                        self.settings.app_directory,
                        node_ids,
                        python=self.python,
                    )
                )
            except ValueError as exc:  # a node id the sandbox refused
                return ToolResult(str(exc), is_error=True)

        def run_checks() -> ToolResult:
            results = self._gates(ctx)
            return ToolResult(format_gates(results), is_error=not all(r.passed for r in results))

        workspace = Workspace(self.repo, protected=self.settings.protected_paths)
        agent = Agent(
            self.model,
            Toolbox(workspace, run_tests, run_checks),
            self.ledger,
            limits,
            self.transcript,
            prompts.render("system.md"),
            clock=self.clock,
        )
        self.progress.phase("implement")
        try:
            agent.run(task)
        except AgentStop as stop:
            self._conclude(agent, ctx, feature, outcome, stop)
        outcome.turns = agent.turns
        outcome.phases.append(("agent and gates", self.clock() - started))
        self.progress.usage(self.ledger, agent.turns)
        return outcome

    def _conclude(
        self, agent: Agent, ctx: GateContext, feature: specs.Feature, outcome: Outcome, stop: AgentStop
    ) -> None:
        """Judge a stop; failing gates go back to the model for a bounded number of rounds."""
        rounds = 0
        while True:
            self.progress.usage(self.ledger, agent.turns)
            if not isinstance(stop, Submitted):
                break
            outcome.report = stop.report
            self.progress.phase("gates")
            outcome.gates = self._judge(ctx, feature, stop.report)
            failed = [g for g in outcome.gates if not g.passed]
            if not failed:
                outcome.conclusion = "success"
                return
            if rounds >= self.settings.max_repair_rounds:
                outcome.conclusion = "draft"
                outcome.unfinished.append(
                    f"{', '.join(g.name for g in failed)} still failing after {rounds} repair round(s)"
                )
                return
            rounds += 1
            self.progress.phase(f"repair {rounds}")
            feedback = prompts.render(
                "gate_feedback.md",
                round=rounds,
                max_rounds=self.settings.max_repair_rounds,
                failed=[
                    {"name": g.name, "summary": g.summary, "findings": list(g.errors[:20])} for g in failed
                ],
            )
            try:
                agent.resume(feedback)
            except AgentStop as exc:
                stop = exc
        if isinstance(stop, NeedsClarification):
            outcome.conclusion = "clarification"
            outcome.questions = stop.questions
            return
        # A refusal is kept apart: its partial edits are not published (see flows.implement).
        outcome.conclusion = "refused" if isinstance(stop, ModelRefused) else "stopped"
        outcome.unfinished.append(f"Stopped before finishing: {stop}")
        self.progress.phase("gates")
        outcome.gates = self._judge(ctx, feature, outcome.report)

    def _judge(
        self, ctx: GateContext, feature: specs.Feature, report: dict[str, Any] | None
    ) -> list[GateResult]:
        """The gates, plus the acceptance check of the model's criteria against JUnit outcomes."""
        results = self._gates(ctx)
        outcomes: dict[str, str] = {}
        for result in results:
            if result.name == pytest_gate.NAME:
                outcomes = dict(result.details.get("outcomes") or {})  # type: ignore[call-overload]
        return [*results, acceptance.gate(feature.spec, report, outcomes)]

    def _gates(self, ctx: GateContext) -> list[GateResult]:
        """The gates' results for the work tree as it is; the same content is judged only once.

        The model usually calls run_checks just before submit_report, and the harness judges the
        submission again: with nothing changed in between, that second run (the whole test suite
        again) is skipped. The sandbox cannot write the work tree, so a run leaves it unchanged.
        """
        try:
            key = gitread.worktree_tree(ctx.repo, ctx.base or "HEAD")
        except gitread.GitError:
            return self.gates(ctx)
        if key not in self._verdicts:
            self._verdicts = {key: self.gates(ctx)}
        return self._verdicts[key]
