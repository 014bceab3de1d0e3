"""Thinking blocks: emitted by the emulator, passed back unchanged by the agent, refused when edited."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import pytest

from bot.agent.catalogue import catalogue
from bot.agent.loop import Limits
from bot.agent.scenario_reader import parse_scenario
from bot.agent.thinking import thinking_param
from bot.exceptions import FatalError, Submitted
from bot.sandbox.paths import Workspace
from tests.agent.helpers import SUBMIT, assistant_messages, http_agent, http_model
from tests.fakes.anthropic_api import AnthropicEmulator

SEARCH = "{name: search, input: {pattern: 'x ='}}"
SESSION = f"""
turns:
  - thinking: "The spec wants a search first."
    tool_calls: [{SEARCH}]
  - thinking: "x is defined in a.py; now the report."
    redacted_thinking: true
    text: "Found it."
    tool_calls: [{SEARCH}]
  - thinking: ""
    tool_calls: [{json.dumps(SUBMIT)}]
"""


@pytest.fixture
def workspace(git_repo: Callable[..., Path]) -> Workspace:
    return Workspace(git_repo({"a.py": "x = 1\n"}))


@pytest.mark.parametrize("model", ["claude-opus-5-5", "claude-opus-4-8"])
def test_thinking_blocks_go_back_unchanged_signatures_included(
    anthropic_api: AnthropicEmulator, workspace: Workspace, tmp_path: Path, model: str
) -> None:
    """Preserved thinking (Opus 5.5, always on) and adaptive thinking asked for (Opus 4.8)."""
    anthropic_api.play(parse_scenario(SESSION, "thinking.yaml"))
    thinking = None if model == "claude-opus-5-5" else {"type": "adaptive"}
    agent = http_agent(http_model(anthropic_api, model, thinking=thinking), workspace, tmp_path)
    with pytest.raises(Submitted):
        agent.run("implement")
    requests = anthropic_api.message_requests
    assert [r.status for r in requests] == [200, 200, 200], [r.error for r in requests]
    issued = anthropic_api.thinking.issued
    last = assistant_messages(requests[2].body)
    # every block the API produced is in the last request, unchanged and in order
    sent = [b for content in last for b in content if b["type"] in ("thinking", "redacted_thinking")]
    assert [b.get("signature") or b.get("data") for b in sent] == list(issued)[:3]
    assert sent[0] == {"type": "thinking", "thinking": "The spec wants a search first.",
                       "signature": sent[0]["signature"]}  # fmt: skip
    assert sent[2]["type"] == "redacted_thinking"
    assert last[1][0]["type"] == "thinking"
    assert last[1][-1]["type"] == "tool_use"
    assert requests[0].body.get("thinking") == thinking


def test_streamed_thinking_keeps_its_signature(
    anthropic_api: AnthropicEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    anthropic_api.play(parse_scenario(SESSION, "thinking.yaml"))
    model = http_model(anthropic_api, "claude-sonnet-5-5")
    agent = http_agent(model, workspace, tmp_path, Limits(max_tokens=32_000))
    with pytest.raises(Submitted):
        agent.run("implement")
    requests = anthropic_api.message_requests
    assert all(r.body.get("stream") is True for r in requests)
    assert [r.status for r in requests] == [200, 200, 200], [r.error for r in requests]


def _second_request(emu: AnthropicEmulator, model: str) -> tuple[anthropic.Anthropic, dict[str, Any]]:
    """A first answer with thinking and a tool call, and the request that answers it correctly."""
    emu.play(parse_scenario(SESSION, "thinking.yaml"))
    client = emu.client(max_retries=0)
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 2000,
        "system": [{"type": "text", "text": "Implement the spec."}],
        "tools": [{"name": "search", "input_schema": {"type": "object"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "implement"}]}],
    }
    if model == "claude-opus-4-8":
        body["thinking"] = {"type": "adaptive"}
    first = client.messages.create(**body)
    content = [b.model_dump(exclude_none=True) for b in first.content]
    assert content[0]["type"] == "thinking"
    use = next(b for b in content if b["type"] == "tool_use")
    body["messages"] += [
        {"role": "assistant", "content": content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"], "content": "a.py:1"}]},
    ]
    return client, body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b["messages"][1]["content"].pop(0), "must start with a thinking block"),
        (lambda b: b["messages"][1]["content"][0].update(thinking="edited"), "Invalid `signature`"),
        (lambda b: b["messages"][1]["content"][0].update(signature="Zm9yZ2Vk"), "Invalid `signature`"),
    ],
    ids=["dropped", "edited", "forged"],
)
def test_the_api_refuses_a_dropped_or_edited_thinking_block(
    anthropic_api: AnthropicEmulator, change: Callable[[dict[str, Any]], Any], message: str
) -> None:
    client, body = _second_request(anthropic_api, "claude-opus-5-5")
    client.messages.create(**copy.deepcopy(body))  # unchanged: accepted
    anthropic_api.play(parse_scenario(SESSION, "thinking.yaml"))
    broken = copy.deepcopy(body)
    change(broken)
    with pytest.raises(anthropic.BadRequestError, match=message):
        client.messages.create(**broken)


def test_preserved_thinking_refuses_an_edited_prefix_older_models_do_not(
    anthropic_api: AnthropicEmulator,
) -> None:
    for model, refused in (("claude-opus-5-5", True), ("claude-opus-4-8", False)):
        client, body = _second_request(anthropic_api, model)
        body["system"] = [{"type": "text", "text": "Implement the spec. Now it is 12:01."}]
        anthropic_api.play(parse_scenario(SESSION, "thinking.yaml"))
        if refused:
            with pytest.raises(anthropic.BadRequestError, match="bound to a different conversation"):
                client.messages.create(**body)
        else:
            assert client.messages.create(**body).content
        # a cache breakpoint is not part of the prefix
        moved = copy.deepcopy(body)
        moved["system"] = [
            {"type": "text", "text": "Implement the spec.", "cache_control": {"type": "ephemeral"}}
        ]
        anthropic_api.play(parse_scenario(SESSION, "thinking.yaml"))
        assert client.messages.create(**moved).content


def test_the_api_refuses_thinking_modes_a_model_does_not_take(anthropic_api: AnthropicEmulator) -> None:
    anthropic_api.play(parse_scenario("turns:\n  - {text: ok}\n", "one.yaml"))
    client = anthropic_api.client(max_retries=0)
    message = [{"role": "user", "content": "hi"}]
    with pytest.raises(anthropic.BadRequestError, match=r'"thinking.type.disabled" is not supported'):
        client.messages.create(model="claude-opus-5-5", max_tokens=100, messages=message,
                               thinking={"type": "disabled"})  # fmt: skip
    with pytest.raises(anthropic.BadRequestError, match="greater than or equal to 1024"):
        client.messages.create(model="claude-opus-4-6", max_tokens=4000, messages=message,
                               thinking={"type": "enabled", "budget_tokens": 100})  # fmt: skip


@pytest.mark.parametrize(
    ("setting", "model", "expected"),
    [
        ("auto", "claude-opus-5-5", None),
        ("adaptive", "claude-opus-4-8", {"type": "adaptive"}),
        ("off", "claude-sonnet-5-5", {"type": "between_tools"}),
        ("off", "claude-opus-4-8", {"type": "disabled"}),
        ("enabled", "claude-opus-4-6", {"type": "enabled", "budget_tokens": 4096}),
    ],
)
def test_the_thinking_setting_as_the_api_spells_it(setting: str, model: str, expected: Any) -> None:
    assert thinking_param(setting, 4096, 16_000, model, catalogue().get(model)) == expected


@pytest.mark.parametrize(
    ("setting", "model", "budget", "message"),
    [
        ("off", "claude-opus-5-5", 0, "cannot turn thinking off"),
        ("adaptive", "claude-haiku-4-5", 0, "does not accept thinking: adaptive"),
        ("enabled", "claude-opus-5-5", 4096, "does not accept thinking: enabled"),
        ("enabled", "claude-opus-4-6", 500, "at least 1024"),
        ("enabled", "claude-opus-4-6", 20_000, "below max-tokens"),
    ],
)
def test_a_thinking_mode_the_model_refuses_stops_before_any_call(
    setting: str, model: str, budget: int, message: str
) -> None:
    with pytest.raises(FatalError, match=message):
        thinking_param(setting, budget, 16_000, model, catalogue().get(model))


def test_the_catalogue_and_the_emulator_agree_on_thinking_and_limits() -> None:
    """Two independent tables of the same service: a drift between them is a bug in one."""
    from tests.fakes.anthropic_models import MODELS

    compared = 0
    for card in MODELS.values():
        spec = catalogue().get(card.id)
        if spec is None:
            continue
        compared += 1
        assert set(spec.thinking.accepts) == set(card.thinking_accepts), card.id
        assert spec.thinking.default_on == card.thinking_default, card.id
        assert spec.preserved_thinking == card.preserved_thinking, card.id
        assert spec.max_output == card.max_output, card.id
        assert (spec.status == "retired") == (card.lifecycle == "retired"), card.id
    assert compared >= 12
