"""The agent loop with the scripted model and the real tools: protocol, stop reasons, limits, transcript."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.agent import prompts
from bot.agent.ledger import Ledger, Usage, price_for
from bot.agent.loop import Agent, Limits
from bot.agent.model import ModelResponse
from bot.agent.scenario_reader import parse_scenario
from bot.agent.scripted import ScriptedModel
from bot.agent.tools import Toolbox, ToolResult
from bot.agent.transcript import Transcript
from bot.exceptions import LimitReached, ModelRefused, ModelTruncated, NeedsClarification, Submitted
from bot.sandbox.paths import Workspace

SUBMIT = {
    "name": "submit_report",
    "input": {
        "summary": "Adds x.",
        "files": [{"path": "a.py", "purpose": "x"}],
        "acceptance_criteria": [{"criterion": "works", "tests": ["tests/test_a.py::test_x"]}],
    },
}


class Recorder:
    """Wraps a model and keeps a deep copy of every request's messages (the protocol under test)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.requests: list[list[dict[str, Any]]] = []

    def complete(
        self, system: str, tools: list[dict[str, Any]], messages: list[dict[str, Any]], max_tokens: int
    ) -> ModelResponse:
        self.requests.append(json.loads(json.dumps(messages)))
        response: ModelResponse = self.inner.complete(system, tools, messages, max_tokens)
        return response


def assert_pairing(messages: list[dict[str, Any]]) -> None:
    """Every tool_use id has exactly one tool_result, first in the next user message (TC-45)."""
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        ids = [b["id"] for b in message["content"] if b["type"] == "tool_use"]
        if not ids or index + 1 == len(messages):
            continue
        following = messages[index + 1]["content"]
        results = [b for b in following if b["type"] == "tool_result"]
        assert [b["tool_use_id"] for b in results] == ids
        assert following[: len(results)] == results


@pytest.fixture
def workspace(git_repo: Callable[..., Path]) -> Workspace:
    return Workspace(git_repo({"a.py": "x = 1\n", "specs/001-a/spec.md": "# spec\n"}))


def make_agent(
    workspace: Workspace,
    scenario: str,
    tmp_path: Path,
    limits: Limits | None = None,
    clock: Callable[[], float] | None = None,
) -> tuple[Agent, Recorder]:
    model = Recorder(ScriptedModel(parse_scenario(scenario, "inline.yaml")))
    tools = Toolbox(
        workspace,
        run_tests=lambda ids: ToolResult(f"ran {list(ids)}: 1 passed"),
        run_checks=lambda: ToolResult("all gates passed"),
    )
    agent = Agent(
        model,
        tools,
        Ledger(price_for("claude-sonnet-4-6")),
        limits or Limits(),
        Transcript(tmp_path / "transcript.jsonl"),
        prompts.render("system.md"),
    )
    if clock is not None:
        agent.clock = clock
    return agent, model


def test_hostile_tool_calls_are_refused_and_each_gets_one_error_result(
    workspace: Workspace, tmp_path: Path
) -> None:
    """TC-15 and TC-45: refused tool calls, one is_error result each."""
    scenario = """
turns:
  - tool_calls:
      - {name: run_command, input: {cmd: env}}
      - {name: bash, input: {command: "cat /proc/1/environ"}}
      - {name: str_replace_based_edit_tool, input: {command: view, path: ../../etc/passwd}}
      - name: str_replace_based_edit_tool
        input: {command: create, path: .git/hooks/pre-commit, file_text: "x"}
      - name: str_replace_based_edit_tool
        input: {command: create, path: specs/001-a/spec.md, file_text: "x"}
      - {name: run_tests, input: {node_ids: ["tests/x.py::t"]}}
      - {name: search, input: {pattern: "("}}
  - tool_calls: [%s]
""" % json.dumps(SUBMIT)
    agent, model = make_agent(workspace, scenario, tmp_path)
    with pytest.raises(Submitted) as stop:
        agent.run("implement")
    assert stop.value.report["summary"] == "Adds x."
    results = model.requests[1][-1]["content"]
    assert [r.get("is_error", False) for r in results] == [True, True, True, True, True, False, True]
    assert "no shell" in results[0]["content"]
    assert "outside" in results[2]["content"]
    assert "specs/ is read-only" in results[4]["content"]
    assert (workspace.root / "specs/001-a/spec.md").read_text() == "# spec\n"
    assert not (workspace.root / ".git/hooks/pre-commit").exists()
    assert_pairing(model.requests[-1])


def test_truncated_tool_call_is_never_run(workspace: Workspace, tmp_path: Path) -> None:
    """TC-43: a tool call cut off at max_tokens is answered, never run."""
    scenario = """
turns:
  - stop_reason: max_tokens
    tool_calls:
      - {name: str_replace_based_edit_tool, input: {command: create, path: half.py, file_text: "def f("}}
  - expect: {tool_results: error, contains: ["cut off at max_tokens"]}
    tool_calls:
      - {name: str_replace_based_edit_tool, input: {command: create, path: whole.py, file_text: "x = 2\\n"}}
  - tool_calls: [%s]
""" % json.dumps(SUBMIT)
    agent, model = make_agent(workspace, scenario, tmp_path)
    with pytest.raises(Submitted):
        agent.run("implement")
    assert not (workspace.root / "half.py").exists()
    assert (workspace.root / "whole.py").read_text() == "x = 2\n"
    assert_pairing(model.requests[-1])


def test_repeated_truncation_stops_the_loop(workspace: Workspace, tmp_path: Path) -> None:
    """TC-43: after repeated truncation the loop stops."""
    turn = """
  - stop_reason: max_tokens
    tool_calls: [{name: search, input: {pattern: x}}]"""
    agent, _ = make_agent(workspace, "turns:" + turn * 3, tmp_path)
    with pytest.raises(ModelTruncated, match="cut off at max_tokens 3 times"):
        agent.run("implement")


@pytest.mark.parametrize(
    ("stop_reason", "error", "message"),
    [
        ("refusal", ModelRefused, "declined"),
        ("model_context_window_exceeded", ModelTruncated, "context window"),
    ],
)
def test_terminal_stop_reasons(
    workspace: Workspace, tmp_path: Path, stop_reason: str, error: type[Exception], message: str
) -> None:
    """TC-44: refusal and model_context_window_exceeded end the loop."""
    agent, _ = make_agent(
        workspace, f"turns:\n  - {{text: 'I will not', stop_reason: {stop_reason}}}\n", tmp_path
    )
    with pytest.raises(error, match=message):
        agent.run("implement")


def test_pause_turn_continues_the_same_assistant_message(workspace: Workspace, tmp_path: Path) -> None:
    """TC-44: pause_turn sends the content back and counts a turn."""
    scenario = """
turns:
  - {text: "thinking...", stop_reason: pause_turn}
  - tool_calls: [%s]
""" % json.dumps(SUBMIT)
    agent, model = make_agent(workspace, scenario, tmp_path)
    with pytest.raises(Submitted):
        agent.run("implement")
    assert model.requests[1][-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "thinking..."}],
    }
    assert [m["role"] for m in agent.messages] == ["user", "assistant"]
    assert agent.turns == 2


def test_end_turn_without_report_is_nudged_then_stopped(workspace: Workspace, tmp_path: Path) -> None:
    scenario = "turns:\n" + "  - {text: 'done'}\n" * 3
    agent, model = make_agent(workspace, scenario, tmp_path)
    with pytest.raises(LimitReached, match="without calling submit_report"):
        agent.run("implement")
    assert "submit_report" in model.requests[1][-1]["content"][0]["text"]


def test_clarification_ends_the_run_with_the_questions(workspace: Workspace, tmp_path: Path) -> None:
    scenario = """
turns:
  - tool_calls:
      - {name: ask_clarification, input: {questions: ["Which time zone?", "Inclusive bounds?"]}}
"""
    agent, _ = make_agent(workspace, scenario, tmp_path)
    with pytest.raises(NeedsClarification) as stop:
        agent.run("implement")
    assert stop.value.questions == ["Which time zone?", "Inclusive bounds?"]


def test_one_question_is_not_enough(workspace: Workspace, tmp_path: Path) -> None:
    scenario = """
turns:
  - tool_calls: [{name: ask_clarification, input: {questions: ["Why?"]}}]
  - expect: {tool_results: error, contains: ["at least 2 items"]}
    tool_calls: [%s]
""" % json.dumps(SUBMIT)
    agent, _ = make_agent(workspace, scenario, tmp_path)
    with pytest.raises(Submitted):
        agent.run("implement")


def test_resume_answers_the_submit_call_with_gate_feedback(workspace: Workspace, tmp_path: Path) -> None:
    """TC-45: after resuming, every tool_use id still has one tool_result."""
    scenario = """
turns:
  - tool_calls: [%s, {name: search, input: {pattern: "x ="}}]
  - expect: {tool_results: any, contains: ["fastapi_auth failed"]}
    tool_calls: [%s]
""" % (json.dumps(SUBMIT), json.dumps(SUBMIT))
    agent, model = make_agent(workspace, scenario, tmp_path)
    with pytest.raises(Submitted):
        agent.run("implement")
    with pytest.raises(Submitted):
        agent.resume("fastapi_auth failed: GET /api/x has no auth")
    last_user = model.requests[1][-1]["content"]
    assert [b["type"] for b in last_user] == ["tool_result", "tool_result"]
    assert last_user[0]["is_error"] is True
    assert "fastapi_auth failed" in last_user[0]["content"]
    assert "a.py:1" in last_user[1]["content"]
    assert_pairing(model.requests[1])


def test_turn_limit_warns_at_80_percent_then_stops(workspace: Workspace, tmp_path: Path) -> None:
    turn = "  - tool_calls: [{name: search, input: {pattern: x}}]\n"
    agent, model = make_agent(workspace, "turns:\n" + turn * 5, tmp_path, limits=Limits(max_turns=5))
    with pytest.raises(LimitReached, match=r"turn limit reached \(5 of 5\)"):
        agent.run("implement")
    warned = [i for i, request in enumerate(model.requests) if "80% of the turn limit" in json.dumps(request)]
    assert warned == [4]
    # the notice sits inside the last tool_result, never as text after the results (TC-47)
    last = model.requests[4][-1]["content"]
    assert [b["type"] for b in last] == ["tool_result"]
    assert "80% of the turn limit" in last[-1]["content"][-1]["text"]


def test_cost_limit_stops_the_loop(workspace: Workspace, tmp_path: Path) -> None:
    """TC-47: the run ledger stops the loop when the budget is spent."""
    turn = "  - tool_calls: [{name: search, input: {pattern: x}}]\n    usage: {output_tokens: 100000}\n"
    agent, _ = make_agent(workspace, "turns:\n" + turn * 4, tmp_path, limits=Limits(max_cost_usd=3.0))
    with pytest.raises(LimitReached, match="cost limit reached"):
        agent.run("implement")
    assert agent.ledger.cost_usd >= 3.0
    assert agent.turns == 2


def test_wall_time_limit_stops_the_loop(workspace: Workspace, tmp_path: Path) -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 100.0
        return now[0]

    turn = "  - tool_calls: [{name: search, input: {pattern: x}}]\n"
    agent, _ = make_agent(
        workspace, "turns:\n" + turn * 9, tmp_path, limits=Limits(max_seconds=1000), clock=clock
    )
    with pytest.raises(LimitReached, match="time limit reached"):
        agent.run("implement")


def test_ledger_counts_cache_tokens_as_input_and_prices_them() -> None:
    """TC-47: total input = input + cache creation + cache read."""
    ledger = Ledger(price_for("claude-sonnet-4-6"))
    ledger.record(Usage(100, 1000, 2000, 0))
    ledger.record(Usage(100, 1000, 500, 2000))
    usage = ledger.usage
    assert usage.total_input == 100 + 2000 + 100 + 500 + 2000
    expected = (200 * 3 + 2500 * 3 * 1.25 + 2000 * 3 * 0.1 + 2000 * 15) / 1_000_000
    assert ledger.cost_usd == pytest.approx(expected)
    assert ledger.cache_read_share == pytest.approx(2000 / 4700)


def test_transcript_is_written_every_step_and_redacted(workspace: Workspace, tmp_path: Path) -> None:
    token = "ghs_" + "Q" * 36
    scenario = (
        """
turns:
  - text: "my token is %s"
    tool_calls: [{name: search, input: {pattern: "x"}}]
  - {text: "oops", stop_reason: refusal}
"""
        % token
    )
    agent, _ = make_agent(workspace, scenario, tmp_path)
    with pytest.raises(ModelRefused):
        agent.run("implement")
    lines = (tmp_path / "transcript.jsonl").read_text().splitlines()
    kinds = [json.loads(line)["kind"] for line in lines]
    assert kinds == ["task", "assistant", "tool", "assistant"]
    assert token not in "".join(lines)
