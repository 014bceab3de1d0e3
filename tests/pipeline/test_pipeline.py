"""The repair loop: failing gates go back to the model as one message, for a bounded number of rounds."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.agent.ledger import Ledger, price_for
from bot.agent.loop import Limits
from bot.agent.model import ModelResponse
from bot.agent.scenario_reader import parse_scenario
from bot.agent.scripted import ScriptedModel
from bot.agent.transcript import Transcript
from bot.gates import Finding, GateContext, GateResult, Unverified
from bot.pipeline.rounds import Pipeline
from bot.settings import Settings
from bot.speckit import api as specs

SPEC = """# Feature Specification: Notes

### User Story 1 - Keep a note (Priority: P1)

**Acceptance Scenarios**:

1. **Given** a user, **When** they save a note, **Then** it is stored.
"""
SUBMIT = {
    "name": "submit_report",
    "input": {
        "summary": "Adds notes.",
        "files": [],
        "acceptance_criteria": [
            {"id": "US1-AS1", "criterion": "stored", "tests": ["tests/test_n.py::test_saved"]}
        ],
    },
}


class Phases:
    """A Progress that records the phases it is told about."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def phase(self, name: str) -> None:
        self.names.append(name)

    def usage(self, ledger: Ledger, turns: int) -> None:
        del ledger, turns


class Recorder:
    def __init__(self, inner: ScriptedModel) -> None:
        self.inner, self.name = inner, inner.name
        self.last_user: list[Any] = []

    def complete(
        self, system: str, tools: list[dict[str, Any]], messages: list[dict[str, Any]], max_tokens: int
    ) -> ModelResponse:
        self.last_user = json.loads(json.dumps(messages[-1]["content"]))
        return self.inner.complete(system, tools, messages, max_tokens)


def edit(number: int) -> dict[str, Any]:
    return {
        "name": "str_replace_based_edit_tool",
        "input": {"command": "create", "path": f"app/fix_{number}.py", "file_text": f"FIX = {number}\n"},
    }


def gates_failing_times(
    failures: int, calls: dict[str, int] | None = None
) -> Callable[[GateContext], list[GateResult]]:
    """A stand-in gate runner: the security gate fails `failures` times, then everything passes."""
    calls = {"n": 0} if calls is None else calls

    def run(ctx: GateContext) -> list[GateResult]:
        calls["n"] += 1
        failing = calls["n"] <= failures
        security = GateResult(
            "security",
            "1 error" if failing else "clean",
            (Finding("HTTPException detail leaks str(exc)", "app/notes.py", 12),) if failing else (),
        )
        pytest_result = GateResult(
            "pytest", "1 passed", details={"outcomes": {"tests/test_n.py::test_saved": "passed"}}
        )
        return [pytest_result, security]

    return run


def run_pipeline(
    git_repo: Callable[..., Path], tmp_path: Path, turns: int, failures: int, rounds: int
) -> tuple[Any, Recorder, Phases]:
    repo = git_repo({"specs/001-notes/spec.md": SPEC, "app/notes.py": "x = 1\n"})
    feature = specs.read_feature(repo, "001-notes", None)
    # every turn changes the work tree (a fix) before submitting again
    scenario = "turns:\n" + "".join(
        f"  - tool_calls: [{json.dumps(edit(i))}, {json.dumps(SUBMIT)}]\n" for i in range(turns)
    )
    model = Recorder(ScriptedModel(parse_scenario(scenario, "repair.yaml")))
    progress = Phases()
    pipeline = Pipeline(
        repo,
        replace(Settings(), max_repair_rounds=rounds),
        model,
        Ledger(price_for("claude-sonnet-4-6")),
        Transcript(tmp_path / "t.jsonl"),
        progress,
        gates=gates_failing_times(failures),
    )
    outcome = pipeline.run(feature, "implement notes", "HEAD", Limits())
    return outcome, model, progress


def test_a_failing_gate_goes_back_to_the_model_once_and_then_passes(
    git_repo: Callable[..., Path], tmp_path: Path
) -> None:
    outcome, model, progress = run_pipeline(git_repo, tmp_path, turns=2, failures=1, rounds=2)
    assert outcome.conclusion == "success"
    assert [g.name for g in outcome.gates] == ["pytest", "security", "acceptance"]
    assert progress.names == ["implement", "gates", "repair 1", "gates"]
    edited, feedback = model.last_user  # the fix's result, then the gate feedback for submit_report
    assert edited["type"] == feedback["type"] == "tool_result"
    assert "is_error" not in edited
    assert feedback["is_error"] is True
    assert "security: 1 error" in feedback["content"]
    assert "app/notes.py:12: HTTPException detail leaks str(exc)" in feedback["content"]
    assert "round 1 of 2" in feedback["content"]


def test_gates_still_failing_after_the_last_round_leave_a_draft(
    git_repo: Callable[..., Path], tmp_path: Path
) -> None:
    outcome, _, progress = run_pipeline(git_repo, tmp_path, turns=2, failures=5, rounds=1)
    assert outcome.conclusion == "draft"
    assert progress.names.count("gates") == 2
    assert outcome.unfinished == ["security still failing after 1 repair round(s)"]


def test_no_repair_rounds_means_the_first_verdict_stands(
    git_repo: Callable[..., Path], tmp_path: Path
) -> None:
    outcome, _, progress = run_pipeline(git_repo, tmp_path, turns=1, failures=1, rounds=0)
    assert outcome.conclusion == "draft"
    assert "repair 1" not in progress.names


def test_gates_judge_the_same_work_tree_only_once(git_repo: Callable[..., Path], tmp_path: Path) -> None:
    repo = git_repo({"specs/001-notes/spec.md": SPEC, "app/notes.py": "x = 1\n"})
    feature = specs.read_feature(repo, "001-notes", None)
    checks = {"name": "run_checks", "input": {}}
    scenario = (
        "turns:\n"
        f"  - tool_calls: [{json.dumps(edit(1))}]\n"
        f"  - tool_calls: [{json.dumps(checks)}]\n"
        f"  - tool_calls: [{json.dumps(SUBMIT)}]\n"
    )
    calls = {"n": 0}
    pipeline = Pipeline(
        repo,
        Settings(),
        ScriptedModel(parse_scenario(scenario, "once.yaml")),
        Ledger(price_for("claude-sonnet-4-6")),
        Transcript(tmp_path / "t.jsonl"),
        Phases(),
        gates=gates_failing_times(0, calls),
    )
    outcome = pipeline.run(feature, "implement notes", "HEAD", Limits())
    assert outcome.conclusion == "success"
    assert calls["n"] == 1, "run_checks just before submit_report: the final verdict reuses it"


def test_a_not_verified_gate_is_a_draft_with_its_fix_and_no_repair_round(
    git_repo: Callable[..., Path], tmp_path: Path
) -> None:
    repo = git_repo({"specs/001-notes/spec.md": SPEC, "app/notes.py": "x = 1\n"})
    feature = specs.read_feature(repo, "001-notes", None)
    scenario = f"turns:\n  - tool_calls: [{json.dumps(edit(1))}, {json.dumps(SUBMIT)}]\n"

    def gates(ctx: GateContext) -> list[GateResult]:
        gap = Unverified("the app could not be imported (ImportError)", "set `app`", "app/notes.py", 1)
        return [
            GateResult("pytest", "1 passed", details={"outcomes": {"tests/test_n.py::test_saved": "passed"}}),
            GateResult("fastapi_auth", "0 routes", unverified=(gap,)),
        ]

    progress = Phases()
    pipeline = Pipeline(
        repo,
        replace(Settings(), max_repair_rounds=2),
        ScriptedModel(parse_scenario(scenario, "unverified.yaml")),
        Ledger(price_for("claude-sonnet-4-6")),
        Transcript(tmp_path / "t.jsonl"),
        progress,
        gates=gates,
    )
    outcome = pipeline.run(feature, "implement notes", "HEAD", Limits())
    assert outcome.conclusion == "draft"
    assert not outcome.gates_passed
    assert [g.verdict for g in outcome.gates] == ["pass", "not verified", "pass"]
    assert "repair 1" not in progress.names  # the model cannot set what only the user can
    assert outcome.unfinished == [
        "fastapi_auth not verified: app/notes.py:1: the app could not be imported (ImportError) "
        "(fix: set `app`)"
    ]
