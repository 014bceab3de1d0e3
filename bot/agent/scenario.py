"""Scripted model sessions: the YAML format shared by the scripted model and the API emulator."""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

import yaml

from bot.exceptions import FatalError

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
_TOOL_STOPS: Final = ("tool_use", "max_tokens", "model_context_window_exceeded")
_TOP_KEYS: Final = ("model", "turns")
_TURN_KEYS: Final = ("text", "tool_calls", "stop_reason", "expect", "fault", "usage")
_CALL_KEYS: Final = ("name", "input")
_EXPECT_KEYS: Final = ("tool_results", "contains")
_FAULT_KEYS: Final = (
    "kind",
    "status",
    "times",
    "retry_after",
    "error_type",
    "message",
    "should_retry",
    "delay",
)
_USAGE_KEYS: Final = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
_B62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


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
    """One assistant response; `number` is 1-based and `line` is its line in the file."""

    number: int
    line: int
    stop_reason: StopReason
    text: str | None = None
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


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and strictly validate a scenario file; FatalError names file, line, turn and key."""
    source = os.fspath(path)
    try:
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise FatalError(
            f"Cannot read scenario {source}: {exc.strerror}.", "Check the scenario path."
        ) from exc
    return parse_scenario(text, source)


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Validate scenario YAML text; `source` names it in error messages."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        doc = _Doc(source, loader)
        if root is None:
            raise FatalError(f"{source}: the scenario is empty.", "Add a 'turns:' list.")
        top = doc.mapping(root, "scenario", _TOP_KEYS)
        model = None
        if "model" in top:
            model = doc.string(top["model"], "scenario: 'model'")
        if "turns" not in top:
            raise doc.fail(root, "scenario: 'turns' is missing", "Add a 'turns:' list.")
        turns_node = top["turns"]
        if not isinstance(turns_node, yaml.SequenceNode) or not turns_node.value:
            raise doc.fail(turns_node, "scenario: 'turns' must be a non-empty list", "List the turns.")
        turns = tuple(doc.turn(node, i + 1) for i, node in enumerate(turns_node.value))
        return Scenario(source=source, turns=turns, model=model)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise FatalError(
            f"{source}{line}: not valid YAML ({getattr(exc, 'problem', exc)}).",
            "Fix the YAML syntax.",
        ) from exc
    finally:
        loader.dispose()


class _Doc:
    """Turns yaml nodes into scenario values, failing with file:line and the YAML path."""

    def __init__(self, source: str, loader: yaml.SafeLoader) -> None:
        self.source = source
        self.loader = loader

    def fail(self, node: yaml.Node, problem: str, fix: str) -> FatalError:
        return FatalError(f"{self.source}:{node.start_mark.line + 1}: {problem}.", fix)

    def mapping(self, node: yaml.Node, where: str, allowed: Sequence[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{where} must be a mapping", f"Use keys: {', '.join(allowed)}.")
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self.loader.construct_object(key_node)
            if not isinstance(key, str) or key not in allowed:
                near = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" Did you mean '{near[0]}'?" if near else ""
                raise self.fail(
                    key_node,
                    f"{where}: unknown key '{key}'",
                    f"Allowed keys: {', '.join(allowed)}.{hint}",
                )
            if key in out:
                raise self.fail(key_node, f"{where}: key '{key}' is repeated", "Keep one.")
            out[key] = value_node
        return out

    def value(self, node: yaml.Node, where: str, kinds: tuple[type, ...], what: str) -> Any:
        value = self.loader.construct_object(node, deep=True)
        if not isinstance(node, yaml.ScalarNode) or type(value) not in kinds:
            shown = json.dumps(value, default=str)[:60]
            raise self.fail(node, f"{where} must be {what} (got {shown})", f"Write {what}.")
        return value

    def string(self, node: yaml.Node, where: str) -> str:
        value = cast(str, self.value(node, where, (str,), "a non-empty string"))
        if not value:
            raise self.fail(node, f"{where} must be a non-empty string", "Write some text.")
        return value

    def number(self, node: yaml.Node, where: str, *, integer: bool = False) -> float:
        kinds: tuple[type, ...] = (int,) if integer else (int, float)
        value = self.value(node, where, kinds, "an integer >= 0" if integer else "a number >= 0")
        if value < 0 or not math.isfinite(value):
            raise self.fail(node, f"{where} must be >= 0 (got {value})", "Use a number >= 0.")
        return cast(float, value)

    def choice(self, node: yaml.Node, where: str, options: Sequence[str]) -> str:
        value = self.value(node, where, (str,), f"one of {', '.join(options)}")
        if value not in options:
            raise self.fail(node, f"{where} must be one of {', '.join(options)} (got '{value}')", "Fix it.")
        return cast(str, value)

    def turn(self, node: yaml.Node, number: int) -> Turn:
        where = f"turn {number}"
        keys = self.mapping(node, where, _TURN_KEYS)
        text = self.string(keys["text"], f"{where}: 'text'") if "text" in keys else None
        calls: tuple[ToolCall, ...] = ()
        if "tool_calls" in keys:
            calls_node = keys["tool_calls"]
            if not isinstance(calls_node, yaml.SequenceNode) or not calls_node.value:
                raise self.fail(calls_node, f"{where}: 'tool_calls' must be a non-empty list", "List calls.")
            calls = tuple(
                self.tool_call(call, f"{where}, tool call {i + 1}") for i, call in enumerate(calls_node.value)
            )
        stop = "tool_use" if calls else "end_turn"
        if "stop_reason" in keys:
            stop = self.choice(keys["stop_reason"], f"{where}: 'stop_reason'", STOP_REASONS)
            if calls and stop not in _TOOL_STOPS:
                raise self.fail(
                    keys["stop_reason"],
                    f"{where}: stop_reason '{stop}' cannot come with tool_calls",
                    f"Use one of {', '.join(_TOOL_STOPS)}, or drop the tool_calls.",
                )
            if stop == "tool_use" and not calls:
                raise self.fail(
                    keys["stop_reason"],
                    f"{where}: stop_reason 'tool_use' needs tool_calls",
                    "Add tool_calls or choose another stop_reason.",
                )
        return Turn(
            number=number,
            line=node.start_mark.line + 1,
            stop_reason=cast(StopReason, stop),
            text=text,
            tool_calls=calls,
            expect=self.expect(keys["expect"], where) if "expect" in keys else None,
            fault=self.fault(keys["fault"], where) if "fault" in keys else None,
            usage=self.usage(keys["usage"], where) if "usage" in keys else Usage(),
        )

    def tool_call(self, node: yaml.Node, where: str) -> ToolCall:
        keys = self.mapping(node, where, _CALL_KEYS)
        for key in _CALL_KEYS:
            if key not in keys:
                raise self.fail(
                    node,
                    f"{where}: '{key}' is missing",
                    "Each tool call needs 'name' (a string) and 'input' (a mapping).",
                )
        name = self.string(keys["name"], f"{where}: 'name'")
        input_node = keys["input"]
        value = self.loader.construct_object(input_node, deep=True)
        if not isinstance(input_node, yaml.MappingNode) or not isinstance(value, dict):
            raise self.fail(input_node, f"{where}: 'input' must be a mapping", "Write {key: value}.")
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise self.fail(
                input_node, f"{where}: 'input' is not JSON ({exc})", "Quote dates and timestamps."
            ) from exc
        return ToolCall(name=name, input=value)

    def expect(self, node: yaml.Node, where: str) -> Expect:
        keys = self.mapping(node, f"{where}, expect", _EXPECT_KEYS)
        results = None
        if "tool_results" in keys:
            results = self.choice(
                keys["tool_results"], f"{where}, expect: 'tool_results'", ("ok", "error", "any")
            )
        contains: list[str] = []
        if "contains" in keys:
            seq = keys["contains"]
            if not isinstance(seq, yaml.SequenceNode):
                raise self.fail(seq, f"{where}, expect: 'contains' must be a list of strings", "Use [..].")
            contains = [self.string(item, f"{where}, expect: 'contains' item") for item in seq.value]
        return Expect(tool_results=cast(ToolResultsExpectation | None, results), contains=tuple(contains))

    def fault(self, node: yaml.Node, where: str) -> Fault:
        at = f"{where}, fault"
        keys = self.mapping(node, at, _FAULT_KEYS)
        parsers: dict[str, Callable[[yaml.Node, str], Any]] = {
            "kind": lambda n, w: self.choice(n, w, FAULT_KINDS),
            "status": lambda n, w: int(self.number(n, w, integer=True)),
            "times": lambda n, w: int(self.number(n, w, integer=True)),
            "retry_after": self.number,
            "delay": self.number,
            "error_type": self.string,
            "message": self.string,
            "should_retry": lambda n, w: self.value(n, w, (bool,), "true or false"),
        }
        args = {key: parsers[key](value, f"{at}: '{key}'") for key, value in keys.items()}
        kind = args.get("kind", "status")
        if kind == "status" and "status" not in args:
            raise self.fail(node, f"{at}: 'status' is missing", "Add e.g. 'status: 529'.")
        if "status" in args and kind not in ("status", "sse_error"):
            raise self.fail(node, f"{at}: 'status' does not apply to kind {kind}", "Drop it.")
        try:
            return Fault(**args)
        except ValueError as exc:
            raise self.fail(node, f"{at}: {exc}", "Fix the fault.") from exc

    def usage(self, node: yaml.Node, where: str) -> Usage:
        keys = self.mapping(node, f"{where}, usage", _USAGE_KEYS)
        counts = {
            key: int(self.number(value, f"{where}, usage: '{key}'", integer=True))
            for key, value in keys.items()
        }
        return Usage(**counts)


def id_factory(prefix: str = "toolu_", seed: str = "specship") -> IdFactory:
    """Deterministic ids shaped like the API's (e.g. toolu_01 + 22 base-62 characters)."""
    counter = itertools.count(1)

    def make() -> str:
        digest = int.from_bytes(hashlib.sha256(f"{seed}:{prefix}:{next(counter)}".encode()).digest())
        chars = []
        for _ in range(22):
            digest, rest = divmod(digest, 62)
            chars.append(_B62[rest])
        return f"{prefix}01{''.join(chars)}"

    return make


def to_content_blocks(turn: Turn, ids: IdFactory) -> list[dict[str, Any]]:
    """The assistant content blocks of a turn, as the Messages API returns them."""
    blocks: list[dict[str, Any]] = []
    if turn.text is not None:
        blocks.append({"type": "text", "text": turn.text})
    for call in turn.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": ids(),
                "name": call.name,
                "input": json.loads(json.dumps(call.input)),
            }
        )
    return blocks


def estimate_tokens(value: object) -> int:
    """A rough token count: a string's length, or its compact JSON's, divided by four."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return max(1, math.ceil(len(text) / 4))


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, Mapping):
                if block.get("type") == "text":
                    parts.append(str(block.get("text", "")))
                elif block.get("type") == "tool_result":
                    parts.append(_text_of(block.get("content", "")))
    return "\n".join(parts)


def check_expect(expect: Expect, messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """Problems with the last user message in `messages` against `expect` (empty when all hold)."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    if last is None:
        return ["the request has no user message"]
    content = last.get("content")
    blocks = content if isinstance(content, list) else []
    results = [b for b in blocks if isinstance(b, Mapping) and b.get("type") == "tool_result"]
    problems: list[str] = []
    if expect.tool_results is not None:
        errors = sum(1 for b in results if b.get("is_error") is True)
        if not results:
            problems.append(f"expected tool_results {expect.tool_results}, but there are none")
        elif expect.tool_results == "ok" and errors:
            problems.append(f"expected every tool_result ok, but {errors} of {len(results)} are errors")
        elif expect.tool_results == "error" and errors != len(results):
            problems.append(
                f"expected every tool_result to be an error, but {len(results) - errors} of "
                f"{len(results)} are ok"
            )
    text = _text_of(content)
    for needle in expect.contains:
        if needle not in text:
            problems.append(f"expected the last user message to contain {needle!r}")
    return problems
