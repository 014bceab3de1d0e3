"""The Messages API emulator, driven by the real anthropic client: turns, validation, caching, faults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pytest

from bot.agent.scenario import Fault
from bot.agent.scenario_play import id_factory, to_content_blocks
from bot.agent.scenario_reader import parse_scenario
from tests.fakes.anthropic_api import API_KEY, AnthropicEmulator

MODEL = "claude-sonnet-4-6"  # a documented 1,024-token cache minimum
SYSTEM = [
    {
        "type": "text",
        "text": "You implement Spec Kit specs for FastAPI apps. " * 120,
        "cache_control": {"type": "ephemeral"},
    }
]
TOOLS: list[Any] = [
    {
        "type": "text_editor_20250728",
        "name": "str_replace_based_edit_tool",
    },
    {
        "name": "run_tests",
        "description": "Run pytest.",
        "input_schema": {"type": "object", "properties": {"node_ids": {"type": "array"}}},
        "cache_control": {"type": "ephemeral"},
    },
]
SESSION = """\
turns:
  - text: "I'll look at the model first."
    tool_calls:
      - name: str_replace_based_edit_tool
        input: {command: view, path: backend/src/models/task.py}
      - name: run_tests
        input: {node_ids: ["tests/test_tasks.py::test_list"]}
    expect: {contains: ["implement specs/002"]}
  - text: All done.
    expect: {tool_results: ok, contains: ["class Task"]}
"""

SCENARIO = parse_scenario(SESSION, "session.yaml")


@pytest.fixture
def emu() -> Iterator[AnthropicEmulator]:
    with AnthropicEmulator(SCENARIO) as emulator:
        yield emulator


def first_request() -> list[Any]:
    return [
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": "Please implement specs/002-due-dates.",
                    "cache_control": {"type": "ephemeral"},
                }
            ],
        }
    ]


def answer(messages: list[Any], reply: anthropic.types.Message, *results: Any) -> list[Any]:
    """The next request's messages: the reply, then one ok tool_result per tool_use."""
    for message in messages:
        if isinstance(message["content"], list):
            for block in message["content"]:
                block.pop("cache_control", None)
    content = [b.model_dump(exclude_none=True) for b in reply.content]
    uses = [b.id for b in reply.content if b.type == "tool_use"]
    blocks = list(results) or [
        {"type": "tool_result", "tool_use_id": i, "content": "class Task(SQLModel): ..."} for i in uses
    ]
    blocks[-1] = {**blocks[-1], "cache_control": {"type": "ephemeral"}}
    return [*messages, {"role": "assistant", "content": content}, {"role": "user", "content": blocks}]


def create(client: anthropic.Anthropic, messages: list[Any], **extra: Any) -> anthropic.types.Message:
    options: dict[str, Any] = {"system": SYSTEM, "tools": TOOLS, "max_tokens": 2000, **extra}
    return client.messages.create(model=MODEL, messages=messages, **options)


def test_non_streaming_turns_round_trip(emu: AnthropicEmulator) -> None:
    client = emu.client(max_retries=0)
    messages = first_request()

    first = create(client, messages)
    second = create(client, answer(messages, first))

    assert first.stop_reason == "tool_use"
    assert [b.type for b in first.content] == ["text", "tool_use", "tool_use"]
    assert first.content[1].input == {"command": "view", "path": "backend/src/models/task.py"}
    assert first.content[2].name == "run_tests"
    assert first.id.startswith("msg_01")
    assert (
        first.content[1].id == to_content_blocks(SCENARIO.turns[0], id_factory(seed="session.yaml"))[1]["id"]
    )
    assert first._request_id == emu.requests[0].request_id
    assert first._request_id.startswith("req_01")
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "All done."
    assert emu.turns_played == 2
    assert [r.turn for r in emu.message_requests] == [1, 2]
    assert emu.expectation_failures == []


def test_streaming_gives_the_same_message_through_sse_events(emu: AnthropicEmulator) -> None:
    client = emu.client(max_retries=0)

    events = list(create(client, first_request(), stream=True))

    kinds = [e.type for e in events]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 3
    deltas = {e.delta.type for e in events if e.type == "content_block_delta"}
    assert deltas == {"text_delta", "input_json_delta"}
    assert events[-2].delta.stop_reason == "tool_use"
    with client.messages.stream(
        model=MODEL, max_tokens=2000, system=SYSTEM, tools=TOOLS, messages=first_request()
    ) as stream:
        final = stream.get_final_message()
    assert emu.turns_played == 2, "each streamed request plays one turn"
    assert final.stop_reason == "end_turn"
    assert final.content[0].type == "text"
    assert final.content[0].text == "All done."


def test_streamed_tool_input_is_reassembled_from_json_deltas() -> None:
    scenario = parse_scenario(SESSION, "session.yaml")
    with AnthropicEmulator(scenario) as emu:
        client = emu.client(max_retries=0)
        with client.messages.stream(
            model=MODEL, max_tokens=2000, system=SYSTEM, tools=TOOLS, messages=first_request()
        ) as stream:
            final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert final.content[1].type == "tool_use"
    assert final.content[1].input == {"command": "view", "path": "backend/src/models/task.py"}
    assert final.usage.input_tokens >= 1


def test_unmet_expectations_are_recorded_not_raised(emu: AnthropicEmulator) -> None:
    client = emu.client(max_retries=0)
    messages = first_request()
    first = create(client, messages)
    uses = [b.id for b in first.content if b.type == "tool_use"]
    failed = [{"type": "tool_result", "tool_use_id": i, "content": "boom", "is_error": True} for i in uses]

    second = create(client, answer(messages, first, *failed))

    assert second.stop_reason == "end_turn"
    assert len(emu.expectation_failures) == 2
    assert emu.expectation_failures[0].startswith("turn 2 (session.yaml:9): expected every")
    assert "'class Task'" in emu.expectation_failures[1]


def test_calling_a_tool_the_request_does_not_offer_is_an_expectation_failure(
    emu: AnthropicEmulator,
) -> None:
    create(emu.client(max_retries=0), first_request(), tools=TOOLS[:1])
    assert emu.expectation_failures == [
        "turn 1 (session.yaml:2): calls tool 'run_tests', which the request does not offer"
    ]


def _pairing_cases() -> list[tuple[str, Any]]:
    def missing(uses: list[str]) -> list[Any]:
        return [{"type": "tool_result", "tool_use_id": uses[0], "content": "x"}]

    def text_first(uses: list[str]) -> list[Any]:
        return [
            {"type": "text", "text": "here you go"},
            *[{"type": "tool_result", "tool_use_id": i, "content": "x"} for i in uses],
        ]

    def unknown(uses: list[str]) -> list[Any]:
        return [{"type": "tool_result", "tool_use_id": i, "content": "x"} for i in [*uses, "toolu_x"]]

    def twice(uses: list[str]) -> list[Any]:
        return [{"type": "tool_result", "tool_use_id": i, "content": "x"} for i in [*uses, uses[0]]]

    return [
        ("without `tool_result` blocks immediately after", missing),
        ("`tool_result` blocks must come first", text_first),
        ("unexpected `tool_use_id` found in `tool_result` blocks: toolu_x", unknown),
        ("more than one `tool_result` block", twice),
    ]


@pytest.mark.parametrize(("message", "results"), _pairing_cases())
def test_tool_use_pairing_violations_are_400(emu: AnthropicEmulator, message: str, results: Any) -> None:
    client = emu.client(max_retries=2)
    messages = first_request()
    first = create(client, messages)
    uses = [b.id for b in first.content if b.type == "tool_use"]
    broken = answer(messages, first)
    broken[-1]["content"] = results(uses)

    with pytest.raises(anthropic.BadRequestError) as caught:
        create(client, broken)

    assert caught.value.status_code == 400
    assert caught.value.type == "invalid_request_error"
    assert message in str(caught.value.api_message)
    assert len(emu.message_requests) == 2, "a 400 is not retried"
    assert emu.turns_played == 1, "a rejected request plays no turn"


def _bad(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 2000,
        "system": SYSTEM,
        "tools": TOOLS,
        "messages": first_request(),
    }
    body.update(changes)
    return body


BLOCK = {"type": "text", "text": "t", "cache_control": {"type": "ephemeral"}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (_bad(max_tokens=64_001), "max_tokens: 64001 > 64000, which is the maximum"),
        (
            _bad(messages=[{"role": "assistant", "content": "hi"}]),
            'first message must use the "user" role',
        ),
        (
            _bad(messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]),
            'found multiple "user" roles in a row',
        ),
        (_bad(messages=[]), "at least one message is required"),
        (
            _bad(messages=[{"role": "user", "content": [BLOCK, BLOCK, BLOCK]}]),
            "A maximum of 4 blocks with cache_control may be provided. Found 5.",
        ),
        (
            _bad(messages=[{"role": "user", "content": [{**BLOCK, "text": ""}]}]),
            "cache_control cannot be set for empty text blocks",
        ),
        (
            _bad(
                messages=[
                    {"role": "user", "content": "a"},
                    {
                        "role": "assistant",
                        "content": [
                            {
                                "type": "thinking",
                                "thinking": "t",
                                "signature": "s",
                                "cache_control": {"type": "ephemeral"},
                            }
                        ],
                    },
                    {"role": "user", "content": "b"},
                ]
            ),
            "cache_control cannot be set on thinking blocks",
        ),
        (
            _bad(system=[{**SYSTEM[0], "cache_control": {"type": "permanent"}}]),
            "system.0.cache_control.type: Input should be 'ephemeral'",
        ),
        (_bad(tools=[TOOLS[1], TOOLS[1]]), "Tool names must be unique"),
        (_bad(tools=[{**TOOLS[1], "name": "run tests!"}]), "tools.0.name: String should match"),
        (
            _bad(tools=[{"type": "text_editor_20250728", "name": "editor"}]),
            "tools.0.text_editor_20250728.name: Input should be 'str_replace_based_edit_tool'",
        ),
        (_bad(tools=[{"name": "x"}]), "tools.0.custom.input_schema: Field required"),
        (_bad(temperatur=0.5), "temperatur: Extra inputs are not permitted"),
        (
            _bad(
                messages=[
                    {"role": "user", "content": "a"},
                    {"role": "assistant", "content": []},
                    {"role": "user", "content": "b"},
                ]
            ),
            "all messages must have non-empty content",
        ),
    ],
)
def test_invalid_requests_get_the_apis_400(
    emu: AnthropicEmulator, body: dict[str, Any], message: str
) -> None:
    client = emu.client(max_retries=2)
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.post("/v1/messages", body=body, cast_to=anthropic.types.Message)
    assert caught.value.type == "invalid_request_error"
    assert message in str(caught.value.api_message)
    assert caught.value.request_id is not None
    assert len(emu.requests) == 1


def test_unknown_model_is_404_and_missing_max_tokens_400(emu: AnthropicEmulator) -> None:
    client = emu.client(max_retries=0)
    with pytest.raises(anthropic.NotFoundError, match="model: claude-nonexistent"):
        client.messages.create(model="claude-nonexistent", max_tokens=10, messages=first_request())
    with pytest.raises(anthropic.BadRequestError, match="max_tokens: Field required"):
        client.post("/v1/messages", body=_bad(max_tokens=None), cast_to=anthropic.types.Message)


def test_turn_two_reads_what_turn_one_cached(emu: AnthropicEmulator) -> None:
    client = emu.client(max_retries=0)
    messages = first_request()

    first = create(client, messages)
    second = create(client, answer(messages, first))

    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation_input_tokens is not None
    assert first.usage.cache_creation_input_tokens > 1024
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens is not None
    assert 0 < second.usage.cache_creation_input_tokens < first.usage.cache_creation_input_tokens


def test_a_changed_prefix_is_read_only_up_to_the_change() -> None:
    scenario = parse_scenario("turns:\n  - text: a\n  - text: b\n  - text: c\n")
    with AnthropicEmulator(scenario) as emu:
        client = emu.client(max_retries=0)
        first = create(client, first_request()).usage
        # a timestamp in the system prompt: the tools (before it) are still read from cache
        changed = [{**SYSTEM[0], "text": "Now at 12:01. " + SYSTEM[0]["text"]}]
        second = create(client, first_request(), system=changed).usage
        renamed = [TOOLS[0], {**TOOLS[1], "description": "Run the tests."}]
        third = create(client, first_request(), tools=renamed).usage
    assert first.cache_creation_input_tokens is not None
    assert second.cache_read_input_tokens is not None
    assert 0 < second.cache_read_input_tokens < first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens is not None
    assert second.cache_creation_input_tokens > len(SYSTEM[0]["text"]) // 4
    assert third.cache_read_input_tokens == 0


def test_a_prefix_below_the_minimum_is_not_cached(emu: AnthropicEmulator) -> None:
    short = emu.client(max_retries=0).messages.create(
        model=MODEL,
        max_tokens=10,
        system=[{"type": "text", "text": "short", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "hi"}],
    )
    assert short.usage.cache_creation_input_tokens == 0
    assert short.usage.cache_read_input_tokens == 0


def test_two_overloaded_answers_then_success_through_sdk_retries() -> None:
    scenario = parse_scenario("turns:\n  - text: ok\n    fault: {status: 529, times: 2}\n  - text: next\n")
    with AnthropicEmulator(scenario) as emu:
        reply = create(emu.client(max_retries=2), first_request())
    assert reply.content[0].type == "text"
    assert reply.content[0].text == "ok"
    assert [r.status for r in emu.requests] == [529, 529, 200]
    assert [r.headers["x-stainless-retry-count"] for r in emu.requests] == ["0", "1", "2"]
    assert emu.turns_played == 1


def test_three_overloaded_answers_raise_overloaded_error_with_request_id(
    emu: AnthropicEmulator,
) -> None:
    emu.inject(Fault(status=529, times=3))
    with pytest.raises(anthropic.OverloadedError) as caught:
        create(emu.client(max_retries=2), first_request())
    assert isinstance(caught.value, anthropic.InternalServerError)
    assert caught.value.status_code == 529
    assert caught.value.type == "overloaded_error"
    assert caught.value.request_id == emu.requests[-1].request_id
    assert len(emu.requests) == 3
    assert emu.turns_played == 0


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (500, anthropic.InternalServerError, "api_error"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
    ],
)
def test_injected_status_faults_have_the_real_error_shape(
    emu: AnthropicEmulator, status: int, error: type[anthropic.APIStatusError], kind: str
) -> None:
    emu.inject(Fault(status=status))
    with pytest.raises(error) as caught:
        create(emu.client(max_retries=0), first_request())
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == kind
    assert body["request_id"] == caught.value.request_id


def test_a_wrong_key_is_401_without_retry_and_without_the_key_in_the_error(
    emu: AnthropicEmulator,
) -> None:
    client = anthropic.Anthropic(api_key="sk-ant-wrong-key", base_url=emu.url, max_retries=2)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        create(client, first_request())
    assert caught.value.api_message == "invalid x-api-key"
    assert "sk-ant-wrong-key" not in str(caught.value)
    assert API_KEY not in str(caught.value)
    assert len(emu.requests) == 1


def test_x_should_retry_false_stops_sdk_retries(emu: AnthropicEmulator) -> None:
    emu.inject(Fault(status=529, should_retry=False))
    with pytest.raises(anthropic.OverloadedError):
        create(emu.client(max_retries=2), first_request())
    assert len(emu.requests) == 1


def test_retry_after_is_honoured(emu: AnthropicEmulator) -> None:
    emu.inject(Fault(status=429, retry_after=1))
    started = time.monotonic()
    reply = create(emu.client(max_retries=1), first_request())
    waited = time.monotonic() - started
    assert reply.stop_reason == "tool_use"
    assert emu.requests[0].status == 429
    assert 1.0 <= waited < 3.0
    assert [r.status for r in emu.requests] == [429, 200]


def test_a_dropped_connection_is_an_api_connection_error_and_plays_no_turn(
    emu: AnthropicEmulator,
) -> None:
    emu.inject(Fault(kind="drop"))
    with pytest.raises(anthropic.APIConnectionError) as caught:
        create(emu.client(max_retries=0), first_request())
    assert not isinstance(caught.value, anthropic.APITimeoutError)
    assert emu.requests[0].status == 0
    emu.inject(Fault(kind="drop"))
    reply = create(emu.client(max_retries=1), first_request())
    assert reply.stop_reason == "tool_use"
    assert emu.turns_played == 1


def test_a_stream_dropped_after_message_start_raises_a_transport_error(
    emu: AnthropicEmulator,
) -> None:
    emu.inject(Fault(kind="drop_mid_stream"))
    client = emu.client(max_retries=2)
    seen: list[str] = []
    # The SDK does not wrap errors raised while reading the stream body: httpx2's error surfaces.
    with pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read"):  # noqa: PT012
        for event in create(client, first_request(), stream=True):
            seen.append(event.type)
    assert seen == ["message_start"]
    assert len(emu.requests) == 1
    assert emu.turns_played == 0


def test_an_sse_error_event_after_200_raises_api_status_error(emu: AnthropicEmulator) -> None:
    emu.inject(Fault(kind="sse_error"))
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:  # noqa: PT012
        for event in create(emu.client(max_retries=2), first_request(), stream=True):
            seen.append(event.type)
    assert seen == ["message_start"]
    assert caught.value.status_code == 200
    assert caught.value.type == "overloaded_error"
    assert emu.turns_played == 0


def test_a_slow_answer_times_the_client_out_and_the_turn_is_kept(emu: AnthropicEmulator) -> None:
    emu.inject(Fault(kind="slow", delay=0.8))
    with pytest.raises(anthropic.APITimeoutError):
        create(emu.client(max_retries=0, timeout=0.3), first_request())
    time.sleep(0.7)
    assert emu.requests[0].error == "client gave up before the slow answer"
    assert emu.turns_played == 0
    reply = create(emu.client(max_retries=0), first_request())
    assert reply.stop_reason == "tool_use"


def test_a_slow_answer_within_the_timeout_arrives(emu: AnthropicEmulator) -> None:
    emu.inject(Fault(kind="slow", delay=0.3))
    started = time.monotonic()
    reply = create(emu.client(max_retries=0), first_request())
    assert time.monotonic() - started >= 0.3
    assert reply.stop_reason == "tool_use"


def test_an_exhausted_scenario_answers_400(emu: AnthropicEmulator) -> None:
    client = emu.client(max_retries=0)
    messages = first_request()
    first = create(client, messages)
    second_messages = answer(messages, first)
    second = create(client, second_messages)
    third = [*second_messages, {"role": "assistant", "content": "All done."}]
    third.append({"role": "user", "content": "and now?"})
    with pytest.raises(anthropic.BadRequestError, match="scenario has no turn 3"):
        create(client, third)
    assert second.stop_reason == "end_turn"


def test_count_tokens_uses_the_same_estimate(emu: AnthropicEmulator) -> None:
    client = emu.client(max_retries=0)
    counted = client.messages.count_tokens(model=MODEL, system=SYSTEM, tools=TOOLS, messages=first_request())
    reply = create(client, first_request())
    usage = reply.usage
    total = usage.input_tokens + (usage.cache_creation_input_tokens or 0)
    total += usage.cache_read_input_tokens or 0
    assert abs(counted.input_tokens - total) <= 1, "input_tokens is at least 1"
    assert emu.turns_played == 1
