"""One feature, start to finish on a work tree: prompt, agent, gates with repair rounds, verdict."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import git
from bot.agent import prompts
from bot.agent.ledger import Ledger
from bot.agent.loop import Agent, Limits
from bot.agent.model import Model
from bot.agent.tools import Toolbox, ToolResult
from bot.agent.transcript import Transcript
from bot.exceptions import AgentStop, ModelRefused, NeedsClarification, Submitted
from bot.gates import GateContext, GateResult, acceptance
from bot.gates import pytest as pytest_gate
from bot.pipeline.outcome import Outcome, Progress
from bot.report.runlog import RunLog
from bot.sandbox.paths import Workspace
from bot.settings import Settings
from bot.speckit import api as specs

GateRunner = Callable[[GateContext], list[GateResult]]
TEST_OUTPUT_TAIL = 6_000
PASSING_NOTE = " (all passed; the console output is in the run's transcript)"
REUSED_NOTE = " (this exact content was tested earlier in this run: its result is repeated)"
NOT_VERIFIED_NOTE = "{gate} not verified: {what}"
GATE_WORDS = {"pass": "passed", "fail": "FAILED", "not verified": "NOT VERIFIED"}


def format_test_result(run: pytest_gate.TestRun) -> ToolResult:
    """A pytest run as the model sees it: counts, failing ids, what the harness distrusts, the output.

    A clean pass is counts only: its console output (up to a tenth of the context on the demo)
    tells the model nothing the counts do not, and the full log stays in the transcript.
    """
    head = f"exit {run.returncode}: {run.count('passed')} passed, {len(run.failed)} failed"
    if run.count("skipped"):
        head += f", {run.count('skipped')} skipped"
    if run.timed_out:
        head += " (timed out)"
    if run.reused:
        head += REUSED_NOTE
    failing = "".join(f"\nFAILED {node}" for node in run.failed[:30])
    judged = run.judgement
    distrust = "".join(f"\nTAMPERED: {text}" for text in judged.tampering[:10])
    distrust += "".join(f"\nNOT VERIFIED: {what}" for what, _ in judged.gaps[:10])
    bad = run.returncode != 0 or not run.outcomes or bool(judged.tampering)
    if not bad and not run.failed and not distrust and not run.timed_out:
        return ToolResult(head + PASSING_NOTE)
    tail = run.output[-TEST_OUTPUT_TAIL:]
    return ToolResult(f"{head}{failing}{distrust}\n\n{tail}", is_error=bad)


def format_gates(results: Sequence[GateResult]) -> str:
    """Gate results for the model (and /specship check): verdict, findings, what went unchecked."""
    lines = []
    for result in results:
        lines.append(f"{result.name}: {GATE_WORDS[result.verdict]} — {result.summary}")
        for finding in result.findings[:15]:
            lines.append(f"  - [{finding.severity}] {finding.render()}")
        for gap in result.unverified[:10]:
            lines.append(f"  - [not verified] {gap.render()}")
    return "\n".join(lines)


def unverified_notes(results: Sequence[GateResult], per_gate: int = 3) -> list[str]:
    """One line per thing a gate could not check, with its fix: for the PR body and tracking comment."""
    notes = []
    for result in results:
        if result.verdict != "not verified":
            continue
        for gap in result.unverified[:per_gate]:
            notes.append(NOT_VERIFIED_NOTE.format(gate=result.name, what=gap.render()))
        if len(result.unverified) > per_gate:
            notes.append(f"{result.name}: {len(result.unverified) - per_gate} more unchecked item(s)")
    return notes


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
    env: Mapping[str, str] = field(default_factory=dict)  # test-env and the venv's variables
    log: RunLog | None = None  # where each fresh verdict shows as it comes (job log, terminal)
    _verdicts: dict[str, list[GateResult]] = field(default_factory=dict)

    def run(self, feature: specs.Feature, task: str, base: str, limits: Limits) -> Outcome:
        ctx = GateContext(self.repo, base, self.settings, feature.name, self.python, self.env)
        outcome = Outcome(feature.name, "stopped", None, [], self.ledger)
        started = self.clock()

        def time_left() -> float:
            return limits.max_seconds - (self.clock() - started)

        # What sandboxed code printed goes to the model: a secret test-env granted to it (a database
        # password) is masked, so it is redacted here like everywhere else.
        redact = self.transcript.redact

        def run_tests(node_ids: Sequence[str]) -> ToolResult:
            try:
                run = pytest_gate.run_tests(
                    self.repo,
                    self.settings.test_command,
                    self.settings.app_directory,
                    node_ids,
                    timeout=min(pytest_gate.DEFAULT_TIMEOUT_S, time_left()),
                    python=self.python,
                    env=self.env,
                    share=ctx.share,
                )
            except ValueError as exc:  # a node id the sandbox refused
                return ToolResult(str(exc), is_error=True)
            # the whole console output for people; the model gets the summary (the transcript redacts)
            self.transcript.write(
                "test_output", {"node_ids": list(node_ids), "reused": run.reused, "output": run.output}
            )
            result = format_test_result(run)
            return ToolResult(redact(result.content), is_error=result.is_error)

        def run_checks() -> ToolResult:
            results = self._gates(ctx)
            return ToolResult(redact(format_gates(results)), is_error=not all(r.passed for r in results))

        workspace = Workspace(self.repo, protected=self.settings.protected_globs)
        agent = Agent(
            self.model,
            Toolbox(workspace, run_tests, run_checks, time_left=time_left),
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
            failed = [g for g in outcome.gates if g.verdict == "fail"]
            unverified = [g for g in outcome.gates if g.verdict == "not verified"]
            if not failed and not unverified:
                outcome.conclusion = "success"
                return
            # Not verified is never green, and no repair round can set what only the user can.
            if not failed or rounds >= self.settings.max_repair_rounds:
                outcome.conclusion = "draft"
                if failed:
                    outcome.unfinished.append(
                        f"{', '.join(g.name for g in failed)} still failing after {rounds} repair round(s)"
                    )
                outcome.unfinished.extend(unverified_notes(unverified))
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
                unverified=[
                    {"name": g.name, "summary": g.summary, "gaps": list(g.unverified[:10])}
                    for g in unverified
                ],
            )
            try:
                agent.resume(self.transcript.redact(feedback))
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
        outcome.unfinished.extend(unverified_notes(outcome.gates))

    def _judge(
        self, ctx: GateContext, feature: specs.Feature, report: dict[str, Any] | None
    ) -> list[GateResult]:
        """The gates, plus the acceptance check of the model's criteria against JUnit outcomes."""
        results = self._gates(ctx)
        outcomes: dict[str, str] = {}
        for result in results:
            if result.name == pytest_gate.NAME:
                outcomes = dict(result.details.get("outcomes") or {})  # type: ignore[call-overload]
        accepted = acceptance.gate(feature.spec, report, outcomes)
        if self.log is not None:
            self.log.gates([accepted])
        return [*results, accepted]

    def _gates(self, ctx: GateContext) -> list[GateResult]:
        """The gates' results for the work tree as it is; the same content is judged only once.

        The model usually calls run_checks just before submit_report, and the harness judges the
        submission again: with nothing changed in between, that second run (the whole test suite
        again) is skipped. The sandbox cannot write the work tree, so a run leaves it unchanged.
        """
        # One scope from the key to the verdicts: the gates reuse the tree the key was taken from.
        with ctx.share.holding_still():
            try:
                key = git.content_key(ctx.repo, ctx.base or "HEAD", ctx.share.private_index(ctx.repo))
            except git.GitError:
                return self._fresh(ctx)
            if key not in self._verdicts:
                self._verdicts = {key: self._fresh(ctx)}
            return self._verdicts[key]

    def _fresh(self, ctx: GateContext) -> list[GateResult]:
        results = self.gates(ctx)
        if self.log is not None:
            self.log.gates(results)
        return results
