"""Malformed tool_use blocks get an error the model can act on, never a crash or a bad request (finding 7)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.agent import prompts
from bot.agent.ledger import Ledger, Usage, price_for
from bot.agent.loop import Agent, Limits
from bot.agent.model import ModelResponse
from bot.agent.scenario import Scenario, ToolCall, Turn
from bot.agent.tool_calls import PLACEHOLDER_NAME, ToolCallChecker
from bot.agent.tools import Toolbox, ToolResult
from bot.agent.transcript import Transcript
from bot.exceptions import Submitted
from bot.sandbox.paths import Workspace
from tests.conftest import run_git
from tests.e2e import FEATURE, World, log, new_world
from tests.fakes.anthropic_api import MODELS
from tests.fakes.anthropic_rules import validate_request
from tests.fakes.github_fixture import REPO

MODEL = "claude-sonnet-4-6"
# Model name -> maximum output, as the emulator's API checks a request's max_tokens.
LIMITS = {
    name: card.max_output
    for card in MODELS.values()
    if card.lifecycle != "retired"
    for name in (card.id, *card.aliases)
}
SUBMIT_INPUT = {
    "summary": "Adds a note.",
    "files": [{"path": "NOTE.md", "purpose": "a note"}],
    "acceptance_criteria": [{"id": "US1-AS1", "criterion": "c", "tests": []}],
}
MALFORMED: dict[str, dict[str, Any]] = {
    "missing name": {"type": "tool_use", "id": "toolu_01a", "input": {"pattern": "x"}},
    "name not a string": {"type": "tool_use", "id": "toolu_01b", "name": 7, "input": {}},
    "name with spaces": {"type": "tool_use", "id": "toolu_01c", "name": "run tests", "input": {}},
    "missing id": {"type": "tool_use", "name": "search", "input": {"pattern": "x"}},
    "input a string": {"type": "tool_use", "id": "toolu_01d", "name": "search", "input": "def main"},
    "input a list": {"type": "tool_use", "id": "toolu_01e", "name": "run_tests", "input": ["a"]},
    "input missing": {"type": "tool_use", "id": "toolu_01f", "name": "run_checks"},
    "unknown tool": {"type": "tool_use", "id": "toolu_01g", "name": "bash", "input": {"cmd": "env"}},
}


class Raw:
    """A model that answers with raw content blocks, and checks every request like the real API."""

    name = MODEL

    def __init__(self, turns: list[list[dict[str, Any]]]) -> None:
        self.turns = turns
        self.requests: list[list[dict[str, Any]]] = []

    def complete(
        self, system: str, tools: list[dict[str, Any]], messages: list[dict[str, Any]], max_tokens: int
    ) -> ModelResponse:
        body = {"model": MODEL, "max_tokens": max_tokens, "system": system, "tools": tools}
        body["messages"] = copy.deepcopy(messages)
        problem = validate_request(json.loads(json.dumps(body)), LIMITS)
        assert problem is None, f"the API would refuse request {len(self.requests) + 1}: {problem}"
        self.requests.append(body["messages"])
        content = self.turns[len(self.requests) - 1]
        return ModelResponse(copy.deepcopy(content), "tool_use", Usage(10, 10))


@pytest.fixture
def workspace(git_repo: Callable[..., Path]) -> Workspace:
    return Workspace(git_repo({"a.py": "def main():\n    pass\n"}))


def agent_for(workspace: Workspace, model: Raw, ran: list[str], tmp_path: Path) -> Agent:
    def tests(ids: object) -> ToolResult:
        ran.append("run_tests")
        return ToolResult("1 passed")

    def checks() -> ToolResult:
        ran.append("run_checks")
        return ToolResult("all passed")

    return Agent(
        model,
        Toolbox(workspace, tests, checks),
        Ledger(price_for(MODEL)),
        Limits(),
        Transcript(tmp_path / "t.jsonl"),
        prompts.render("system.md"),
    )


SUBMIT = {"type": "tool_use", "id": "toolu_01z", "name": "submit_report", "input": SUBMIT_INPUT}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_call_gets_an_error_result_and_the_run_goes_on(
    workspace: Workspace, tmp_path: Path, case: str
) -> None:
    model = Raw([[{"type": "text", "text": "Working."}, MALFORMED[case]], [SUBMIT]])
    ran: list[str] = []
    with pytest.raises(Submitted):
        agent_for(workspace, model, ran, tmp_path).run("task")
    assert ran == []  # nothing ran for the malformed call
    assert len(model.requests) == 2  # and the request after it was one the API accepts
    echoed = [b for b in model.requests[1][-2]["content"] if b["type"] == "tool_use"]
    (answer,) = [b for b in model.requests[1][-1]["content"] if b["type"] == "tool_result"]
    assert answer["tool_use_id"] == echoed[0]["id"]
    assert answer["is_error"] is True
    text = answer["content"]
    if case == "unknown tool":
        assert "There is no tool named 'bash'" in text
    elif case.startswith("input"):
        assert "not a JSON object, so nothing ran" in text
        assert echoed[0]["input"] == {}
    elif case == "missing id":
        assert "no valid id (it sent nothing)" in text
    else:
        assert "no valid tool name" in text
        assert echoed[0]["name"] == PLACEHOLDER_NAME


def test_duplicate_and_missing_ids_in_one_turn_each_get_one_result(
    workspace: Workspace, tmp_path: Path
) -> None:
    view = {"command": "view", "path": "a.py"}
    turn = [
        {"type": "tool_use", "id": "toolu_01x", "name": "str_replace_based_edit_tool", "input": view},
        {"type": "tool_use", "id": "toolu_01x", "name": "search", "input": {"pattern": "main"}},
        {"type": "tool_use", "name": "search", "input": {"pattern": "main"}},
    ]
    model = Raw([turn, [SUBMIT]])
    with pytest.raises(Submitted):
        agent_for(workspace, model, [], tmp_path).run("task")
    ids = [b["id"] for b in model.requests[1][-2]["content"]]
    assert ids[0] == "toolu_01x"
    assert len(set(ids)) == 3
    results = model.requests[1][-1]["content"]
    assert [r["tool_use_id"] for r in results] == ids
    assert "is_error" not in results[0]  # the first, well-formed call ran
    assert "def main" in results[0]["content"]
    assert all(r["is_error"] for r in results[1:])


def test_ids_stay_unique_across_turns() -> None:
    checker = ToolCallChecker()
    first, _ = checker.check([{"type": "tool_use", "id": "toolu_1", "name": "search", "input": {}}])
    second, problems = checker.check([{"type": "tool_use", "id": "toolu_1", "name": "search", "input": {}}])
    assert first[0]["id"] == "toolu_1"
    assert second[0]["id"] != "toolu_1"
    assert "no valid id" in problems[second[0]["id"]]


def test_blocks_that_are_not_tool_calls_pass_unchanged() -> None:
    blocks = [{"type": "text", "text": "hi"}, {"type": "thinking", "thinking": "t", "signature": "s"}]
    fixed, problems = ToolCallChecker().check(copy.deepcopy(blocks))
    assert fixed == blocks
    assert problems == {}


# -- end to end: the real client against the Anthropic emulator, the GitHub flow -------------------


@pytest.fixture
def world() -> Iterator[World]:
    with new_world() as fresh:
        yield fresh


def malformed_session() -> Scenario:
    """A session the YAML format cannot express: a call without a name, one whose input is text."""
    note = {"command": "create", "path": "backend/NOTE.md", "file_text": "Due dates noted.\n"}
    report = {**SUBMIT_INPUT, "files": [{"path": "backend/NOTE.md", "purpose": "n"}]}
    calls = [
        (ToolCall(name=None, input={"pattern": "x"}),),  # type: ignore[arg-type]
        (ToolCall(name="search", input="due_date"),),  # type: ignore[arg-type]
        (ToolCall(name="str_replace_based_edit_tool", input=note),),
        (ToolCall(name="submit_report", input=report),),
    ]
    turns = tuple(
        Turn(number=i + 1, line=0, stop_reason="tool_use", tool_calls=c) for i, c in enumerate(calls)
    )
    return Scenario(source="malformed", turns=turns)


@pytest.mark.slow
def test_a_run_with_malformed_calls_finishes_and_pushes_the_work(world: World) -> None:
    number = world.github.add_issue(REPO, f"Implement specs/{FEATURE}", body="Please.", author="alice")
    world.anthropic.play(malformed_session())
    result = world.run("issues", world.label_payload(number), **{"INPUT_MAX-REPAIR-ROUNDS": "0"})
    assert result.returncode in (0, 1), log(result)  # a verdict (success or draft), never exit 3
    assert "bug" not in log(result).lower()
    assert world.anthropic.turns_played == 4
    results = [
        block
        for request in world.anthropic.message_requests[1:3]
        for block in request.body["messages"][-1]["content"]
        if block.get("type") == "tool_result"
    ]
    assert "no valid tool name" in results[0]["content"]
    assert "not a JSON object" in results[1]["content"]
    (pr,) = world.github.repo(REPO).pulls.values()
    bare = world.github.bare_repo_path
    files = run_git(bare, "diff", "--name-only", f"main...{pr.head_ref}").split()
    assert "backend/NOTE.md" in files
