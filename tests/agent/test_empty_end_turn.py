"""An empty end_turn is never stored: one nudge, then a clean stop, over HTTP against the emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import anthropic
import pytest

from bot.agent.loop import EMPTY_REPLY_NUDGE, Limits
from bot.agent.scenario_reader import parse_scenario
from bot.exceptions import LimitReached, Submitted
from bot.sandbox.paths import Workspace
from tests.agent.helpers import SUBMIT, assistant_messages, http_agent, http_model
from tests.fakes.anthropic_api import AnthropicEmulator

SEARCH = "{name: search, input: {pattern: 'x ='}}"


@pytest.fixture
def workspace(git_repo: Callable[..., Path]) -> Workspace:
    return Workspace(git_repo({"a.py": "x = 1\n"}))


def test_the_emulator_refuses_an_empty_assistant_turn_like_the_api(anthropic_api: AnthropicEmulator) -> None:
    """What the bug sent: the stored empty answer makes the next request a 400."""
    anthropic_api.play(parse_scenario("turns:\n  - {text: ok}\n", "one.yaml"))
    messages = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": []},
        {"role": "user", "content": "continue"},
    ]
    with pytest.raises(anthropic.BadRequestError, match="must have non-empty content"):
        anthropic_api.client(max_retries=0).messages.create(
            model="claude-sonnet-5-5", max_tokens=100, messages=messages
        )
    blank = [{"role": "user", "content": [{"type": "text", "text": "  \n"}]}]
    with pytest.raises(anthropic.BadRequestError, match="non-whitespace text"):
        anthropic_api.client(max_retries=0).messages.create(
            model="claude-sonnet-5-5", max_tokens=100, messages=blank
        )


def test_an_empty_end_turn_after_tool_results_is_nudged_once(
    anthropic_api: AnthropicEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    scenario = f"""
turns:
  - tool_calls: [{SEARCH}]
  - stop_reason: end_turn
  - expect: {{contains: ["Your last answer was empty"]}}
    tool_calls: [{json.dumps(SUBMIT)}]
"""
    anthropic_api.play(parse_scenario(scenario, "empty.yaml"))
    agent = http_agent(http_model(anthropic_api), workspace, tmp_path)
    with pytest.raises(Submitted):
        agent.run("implement")
    assert anthropic_api.expectation_failures == []
    requests = anthropic_api.message_requests
    assert [r.status for r in requests] == [200, 200, 200]
    third = requests[2].body
    # the empty answer was not stored: the tool results' user turn grew by the nudge instead
    assert all(content for content in assistant_messages(third))
    assert [m["role"] for m in third["messages"]] == ["user", "assistant", "user"]
    last = third["messages"][-1]["content"]
    assert [b["type"] for b in last] == ["tool_result", "text"]
    assert last[-1]["text"] == EMPTY_REPLY_NUDGE
    assert len(agent.ledger.calls) == 3  # the empty answer was billed and is counted


def test_a_second_empty_answer_ends_the_run_cleanly(
    anthropic_api: AnthropicEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    scenario = f"""
turns:
  - tool_calls: [{SEARCH}]
  - stop_reason: end_turn
  - stop_reason: end_turn
  - tool_calls: [{json.dumps(SUBMIT)}]
"""
    anthropic_api.play(parse_scenario(scenario, "empty-twice.yaml"))
    agent = http_agent(http_model(anthropic_api), workspace, tmp_path)
    with pytest.raises(LimitReached, match="empty message twice"):
        agent.run("implement")
    assert [r.status for r in anthropic_api.message_requests] == [200, 200, 200]
    assert anthropic_api.turns_played == 3
    transcript = (tmp_path / "transcript.jsonl").read_text(encoding="utf-8")
    assert transcript.count('"empty": true') == 2


def test_a_whitespace_only_answer_is_not_stored_either(
    anthropic_api: AnthropicEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    scenario = f"""
turns:
  - text: "   "
  - tool_calls: [{json.dumps(SUBMIT)}]
"""
    anthropic_api.play(parse_scenario(scenario, "blank.yaml"))
    agent = http_agent(http_model(anthropic_api), workspace, tmp_path)
    with pytest.raises(Submitted):
        agent.run("implement")
    second = anthropic_api.message_requests[1].body
    assert [m["role"] for m in second["messages"]] == ["user"]
    assert second["messages"][0]["content"][-1]["text"] == EMPTY_REPLY_NUDGE


def test_the_wrap_up_notice_goes_inside_the_last_tool_result(
    anthropic_api: AnthropicEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    """Text after tool results invites empty replies: the budget notice rides in the result."""
    scenario = "turns:\n" + f"  - tool_calls: [{SEARCH}, {SEARCH}]\n" * 5
    anthropic_api.play(parse_scenario(scenario, "wrap.yaml"))
    agent = http_agent(http_model(anthropic_api), workspace, tmp_path, Limits(max_turns=5))
    with pytest.raises(LimitReached, match="turn limit"):
        agent.run("implement")
    last = anthropic_api.message_requests[4].body["messages"][-1]["content"]
    assert [b["type"] for b in last] == ["tool_result", "tool_result"]
    assert isinstance(last[0]["content"], str)
    notice = last[1]["content"][-1]
    assert notice["type"] == "text"
    assert "80% of the turn limit" in notice["text"]
    assert [r.status for r in anthropic_api.message_requests] == [200] * 5
