"""Scripted model sessions: the YAML format shared by the scripted model and the API emulator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

StopReason = Literal[
    "end_turn", "tool_use", "max_tokens", "pause_turn", "refusal", "model_context_window_exceeded"
]
FaultKind = Literal["status", "drop", "drop_mid_stream", "sse_error", "slow"]
ToolResultsExpectation = Literal["ok", "error", "any"]
IdFactory = Callable[[], str]

STOP_REASONS: Final[tuple[str, ...]] = (
    "end_turn",
    "tool_use",
    "max_tokens",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
)
FAULT_KINDS: Final[tuple[str, ...]] = ("status", "drop", "drop_mid_stream", "sse_error", "slow")
# stop reasons under which an assistant turn may carry tool_use blocks
TOOL_STOPS: Final = ("tool_use", "max_tokens", "model_context_window_exceeded")
TOP_KEYS: Final = ("model", "turns")
TURN_KEYS: Final = (
    "text",
    "thinking",
    "redacted_thinking",
    "tool_calls",
    "stop_reason",
    "expect",
    "fault",
    "usage",
)
CALL_KEYS: Final = ("name", "input")
EXPECT_KEYS: Final = ("tool_results", "contains")
FAULT_KEYS: Final = (
    "kind",
    "status",
    "times",
    "retry_after",
    "error_type",
    "message",
    "should_retry",
    "delay",
)
USAGE_KEYS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
B62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class ToolCall:
    """One tool_use block the scripted model emits (its id is generated when it is sent)."""

    name: str
    input: Mapping[str, Any]


@dataclass(frozen=True)
class Expect:
    """Assertions about the last user message of the request a turn answers."""

    tool_results: ToolResultsExpectation | None = None
    contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fault:
    """A failure the emulator serves instead of an answer, `times` requests in a row.

    kind: status (HTTP error `status`), drop (close the socket without a response),
    drop_mid_stream (send the start of the answer, then close), sse_error (HTTP 200, then an
    SSE `error` event), slow (wait `delay` seconds, then answer normally). `delay` also
    postpones the other kinds.
    """

    status: int = 529
    times: int = 1
    retry_after: float | None = None
    kind: FaultKind = "status"
    error_type: str | None = None
    message: str | None = None
    should_retry: bool | None = None
    delay: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)} (got {self.kind!r})")
        if not 400 <= self.status <= 599:
            raise ValueError(f"status must be 400-599 (got {self.status})")
        if self.times < 1 or self.delay < 0 or (self.retry_after or 0) < 0:
            raise ValueError("times must be >= 1, delay and retry_after >= 0")
        if self.kind == "slow" and self.delay <= 0:
            raise ValueError("kind slow needs a delay > 0")


@dataclass(frozen=True)
class Usage:
    """Token counts a turn reports instead of the estimated ones (None keeps the estimate)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


@dataclass(frozen=True)
class Turn:
    """One assistant response; `number` is 1-based and `line` is its line in the file.

    `thinking` (text, possibly empty as with display omitted) and `redacted_thinking` are emitted
    as signed thinking blocks before the text, when thinking is on for the request.
    """

    number: int
    line: int
    stop_reason: StopReason
    text: str | None = None
    thinking: str | None = None
    redacted_thinking: bool = False
    tool_calls: tuple[ToolCall, ...] = ()
    expect: Expect | None = None
    fault: Fault | None = None
    usage: Usage = Usage()


@dataclass(frozen=True)
class Scenario:
    """A scripted session: the turns the model answers with, in order."""

    source: str
    turns: tuple[Turn, ...]
    model: str | None = None
