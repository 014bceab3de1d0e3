"""The real anthropic client through bot.agent against the Messages emulator: retries, errors, caching."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bot.agent import prompts
from bot.agent.client import NONSTREAMING_MAX_TOKENS, AnthropicModel, check_max_tokens, with_cache_breakpoints
from bot.agent.ledger import Ledger, price_for
from bot.agent.loop import Agent, Limits
from bot.agent.scenario import Fault, Scenario
from bot.agent.scenario_reader import parse_scenario
from bot.agent.tools import TOOL_DEFINITIONS, Toolbox, ToolResult
from bot.agent.transcript import Transcript
from bot.exceptions import FatalError, Submitted
from bot.sandbox.paths import Workspace
from tests.fakes.anthropic_api import API_KEY, AnthropicEmulator

ONE_TURN = parse_scenario("turns:\n  - {text: 'hello'}\n", "one.yaml")
MESSAGES = [{"role": "user", "content": "Say hello."}]


class Sleeps:
    """An injected sleep that records what the retry policy asked for instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def model_for(emu: AnthropicEmulator, sleeps: Sleeps, deadline: float | None = None) -> AnthropicModel:
    return AnthropicModel(
        model="claude-sonnet-4-6",
        api_key=API_KEY,
        base_url=emu.url,
        sleep=sleeps,
        deadline=deadline,
        clock=lambda: 0.0,
    )


def complete(model: AnthropicModel, max_tokens: int = 1024) -> str:
    response = model.complete("system", TOOL_DEFINITIONS, MESSAGES, max_tokens)
    return str(response.content[0]["text"])


def test_overloaded_twice_then_success(anthropic_api: AnthropicEmulator) -> None:
    """TC-39: 529 twice, then success."""
    anthropic_api.play(ONE_TURN)
    anthropic_api.inject(Fault(status=529, times=2))
    sleeps = Sleeps()
    assert complete(model_for(anthropic_api, sleeps)) == "hello"
    assert len(anthropic_api.message_requests) == 3
    assert len(sleeps.calls) == 2
    assert all(0 < s <= 8 for s in sleeps.calls)


def test_overloaded_three_times_is_a_clear_error_with_the_request_id(
    anthropic_api: AnthropicEmulator,
) -> None:
    """TC-39: three 529s surface as 'Anthropic overloaded (request-id …)'."""
    anthropic_api.play(ONE_TURN)
    anthropic_api.inject(Fault(status=529, times=3))
    with pytest.raises(FatalError) as error:
        complete(model_for(anthropic_api, Sleeps()))
    assert error.value.cause.startswith("Anthropic overloaded: 529 overloaded_error")
    assert "(request-id req_" in error.value.cause
    assert "/specship retry" in error.value.fix
    assert len(anthropic_api.message_requests) == 3


def test_retry_after_is_honoured_within_the_budget(anthropic_api: AnthropicEmulator) -> None:
    """TC-40: retry-after honoured (20 s and 120 s) within the budget."""
    anthropic_api.play(ONE_TURN)
    anthropic_api.inject(Fault(status=429, retry_after=20))
    anthropic_api.inject(Fault(status=429, retry_after=120))
    sleeps = Sleeps()
    assert complete(model_for(anthropic_api, sleeps, deadline=1000.0)) == "hello"
    assert sleeps.calls == [20.0, 120.0]


def test_retry_after_beyond_the_budget_fails_fast(anthropic_api: AnthropicEmulator) -> None:
    """TC-40: a retry-after past the run's deadline fails clearly, no tight loop."""
    anthropic_api.play(ONE_TURN)
    anthropic_api.inject(Fault(status=429, retry_after=120))
    sleeps = Sleeps()
    with pytest.raises(FatalError, match=r"asked to wait 120 s .*longer than the run has left"):
        complete(model_for(anthropic_api, sleeps, deadline=60.0))
    assert sleeps.calls == []


@pytest.mark.parametrize(("status", "kind"), [(401, "authentication_error"), (400, "invalid_request_error")])
def test_client_errors_are_not_retried_and_never_show_the_key(
    anthropic_api: AnthropicEmulator, status: int, kind: str
) -> None:
    """TC-41: 401/400 are not retried; type and request-id shown, never the key."""
    anthropic_api.play(ONE_TURN)
    anthropic_api.inject(Fault(status=status))
    with pytest.raises(FatalError) as error:
        complete(model_for(anthropic_api, Sleeps()))
    text = str(error.value)
    assert f"{status} {kind}" in text
    assert "request-id req_" in text
    assert API_KEY not in text
    assert API_KEY[:20] not in text
    assert len(anthropic_api.message_requests) == 1


def test_wrong_key_is_an_authentication_error(anthropic_api: AnthropicEmulator) -> None:
    anthropic_api.play(ONE_TURN)
    model = AnthropicModel(
        model="claude-sonnet-4-6", api_key="sk-ant-wrong-key-123456", base_url=anthropic_api.url
    )
    with pytest.raises(FatalError, match="401 authentication_error") as error:
        complete(model)
    assert "sk-ant-wrong" not in str(error.value)
    assert "anthropic-api-key" in error.value.fix


def test_dropped_connection_is_retried_from_the_same_messages(anthropic_api: AnthropicEmulator) -> None:
    """TC-42: a dropped connection retries the turn from the same messages."""
    anthropic_api.play(ONE_TURN)
    anthropic_api.inject(Fault(kind="drop"))
    sleeps = Sleeps()
    assert complete(model_for(anthropic_api, sleeps)) == "hello"
    bodies = [r.body for r in anthropic_api.message_requests]
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]


@pytest.mark.parametrize("kind", ["drop_mid_stream", "sse_error"])
def test_stream_failure_mid_answer_retries_the_turn(anthropic_api: AnthropicEmulator, kind: str) -> None:
    """TC-42: a stream cut mid-answer (or an SSE error) retries the whole turn."""
    anthropic_api.play(ONE_TURN)
    anthropic_api.inject(Fault(kind=kind, status=529 if kind == "sse_error" else 500))
    sleeps = Sleeps()
    model = model_for(anthropic_api, sleeps)
    assert complete(model, max_tokens=NONSTREAMING_MAX_TOKENS + 1) == "hello"
    requests = anthropic_api.message_requests
    assert len(requests) == 2
    assert all(r.body.get("stream") is True for r in requests)


def test_large_max_tokens_is_caught_at_start_without_streaming() -> None:
    """TC-46: max_tokens the non-streaming API refuses is caught at start."""
    with pytest.raises(FatalError, match=r"Use streaming or set max-tokens ≤ 21333"):
        check_max_tokens(32000, streaming=False)
    check_max_tokens(32000, streaming=True)
    check_max_tokens(21333, streaming=False)


def test_unknown_model_needs_a_price() -> None:
    with pytest.raises(FatalError, match="no price for the model 'claude-future-9'"):
        price_for("claude-future-9")
    assert price_for("claude-future-9", 2.0, 10.0).output == 10.0
    assert price_for("claude-sonnet-4-5-20250929").input == 3.0
    assert price_for("anthropic.claude-haiku-4-5-20251001-v1:0").input == 1.0


def test_missing_api_key_names_the_fork_case() -> None:
    with pytest.raises(FatalError, match="secrets unavailable"):
        AnthropicModel(model="claude-sonnet-4-6", api_key="")


def test_breakpoints_sit_on_system_and_the_two_newest_user_turns() -> None:
    """TC-47: cache_control on system and the moving breakpoints; the tools' mark was redundant."""
    messages = [
        {"role": "user", "content": "task"},
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
        {"role": "user", "content": [{"type": "text", "text": "more"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    ]
    system, tools, sent = with_cache_breakpoints("sys", TOOL_DEFINITIONS, messages)
    assert system == [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}]
    assert all("cache_control" not in t for t in tools)
    assert sent[0]["content"] == "task"
    assert sent[2]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert sent[4]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in sent[4]["content"][0]
    _, _, first = with_cache_breakpoints("sys", TOOL_DEFINITIONS, messages[:1])
    assert first[0]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in messages[2]["content"][-1], "the caller's messages are not mutated"
    assert "cache_control" not in messages[4]["content"][-1]
    assert messages[0]["content"] == "task"
    assert "cache_control" not in TOOL_DEFINITIONS[-1]
    # only the marked turns are copied: the rest of the conversation is sent as it is
    assert [sent[i] is messages[i] for i in range(5)] == [True, True, False, True, False]
    assert sent[4]["content"][0] is messages[4]["content"][0]


def test_system_prompt_has_nothing_per_run() -> None:
    """TC-47: nothing per-run before the first breakpoint."""
    system = prompts.render("system.md")
    assert system == prompts.render("system.md")
    for marker in ("2026", "run_id", "GITHUB_RUN", "{{"):
        assert marker not in system


def run_over_http(
    anthropic_api: AnthropicEmulator, git_repo: ..., tmp_path: Path, scenario: Scenario
) -> Ledger:
    """Play `scenario` through the real client and the agent loop until it submits; its ledger."""
    anthropic_api.play(scenario)
    workspace = Workspace(git_repo({"a.py": "x = 1\n"}))
    tools = Toolbox(workspace, run_tests=lambda ids: ToolResult("ok"), run_checks=lambda: ToolResult("ok"))
    ledger = Ledger(price_for("claude-sonnet-4-6"))
    agent = Agent(
        model_for(anthropic_api, Sleeps()),
        tools,
        ledger,
        Limits(),
        Transcript(tmp_path / "t.jsonl"),
        prompts.render("system.md"),
    )
    with pytest.raises(Submitted):
        agent.run("implement " + "context " * 2000)
    assert anthropic_api.expectation_failures == []
    return ledger


def test_agent_over_http_reads_the_cache_from_turn_two(
    anthropic_api: AnthropicEmulator, git_repo: ..., tmp_path: Path
) -> None:
    """TC-47: turn 2 reads the cache through the real client."""
    scenario = parse_scenario(
        """
turns:
  - tool_calls: [{name: search, input: {pattern: "x"}}]
  - tool_calls: [{name: search, input: {pattern: "y"}}]
  - tool_calls:
      - name: submit_report
        input: {summary: s, files: [], acceptance_criteria: [{criterion: c, tests: []}]}
""",
        "three.yaml",
    )
    ledger = run_over_http(anthropic_api, git_repo, tmp_path, scenario)
    first, second = ledger.calls[0].usage, ledger.calls[1].usage
    assert first.cache_creation_input_tokens > 0
    assert second.cache_read_input_tokens > 0
    assert ledger.cache_read_share > 0.5
    body = anthropic_api.message_requests[1].body
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}


@pytest.mark.parametrize("calls", [1, 11, 25])
def test_any_number_of_parallel_tool_calls_keeps_the_cache_read_over_90_percent(
    calls: int, anthropic_api: AnthropicEmulator, git_repo: ..., tmp_path: Path
) -> None:
    """Issue 17: a turn of `calls` parallel tool calls (2 blocks each) is past the emulator's 20-block
    lookback from the newest mark; the previous user turn's mark still reads the whole history."""
    turn = (
        "  - tool_calls: ["
        + ", ".join(f'{{name: search, input: {{pattern: "p{i}"}}}}' for i in range(calls))
        + "]\n"
    )
    scenario = parse_scenario(
        "turns:\n"
        + turn * 4
        + """  - tool_calls:
      - name: submit_report
        input: {summary: s, files: [], acceptance_criteria: [{criterion: c, tests: []}]}
""",
        "parallel.yaml",
    )
    ledger = run_over_http(anthropic_api, git_repo, tmp_path, scenario)
    usages = [call.usage for call in ledger.calls]
    for before, usage in itertools.pairwise(usages):
        # everything the previous request cached is read; only the newest turn is written
        assert (
            usage.cache_read_input_tokens
            == before.cache_read_input_tokens + before.cache_creation_input_tokens
        )
        if calls <= 11:  # and with turns of up to 11 calls on this context, the share stays over 90 %
            assert usage.cache_read_input_tokens / usage.total_input >= 0.9, (calls, usage)


@pytest.mark.parametrize(("provider", "names"), [("bedrock", "AWS_REGION"), ("vertex", "CLOUD_ML_REGION")])
def test_cloud_providers_without_configuration_say_what_to_set(
    provider: str, names: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in (
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "CLOUD_ML_REGION",
        "ANTHROPIC_VERTEX_PROJECT_ID",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(FatalError, match=f"Could not set up the {provider} client") as error:
        AnthropicModel(model="claude-sonnet-4-6", provider=provider)
    assert names in error.value.fix
