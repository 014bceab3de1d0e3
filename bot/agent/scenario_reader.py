"""Scenario files read strictly: every key, type and value checked, errors with file:line and a fix."""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Callable, Sequence
from typing import Any, cast

import yaml

from bot.agent.scenario import (
    CALL_KEYS,
    EXPECT_KEYS,
    FAULT_KEYS,
    FAULT_KINDS,
    STOP_REASONS,
    TOOL_STOPS,
    TOP_KEYS,
    TURN_KEYS,
    USAGE_KEYS,
    Expect,
    Fault,
    Scenario,
    StopReason,
    ToolCall,
    ToolResultsExpectation,
    Turn,
    Usage,
)
from bot.exceptions import FatalError
from bot.yaml_loader import SAFE_LOADER


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
    loader = SAFE_LOADER(text)
    try:
        root = loader.get_single_node()
        doc = ScenarioDoc(source, loader)
        if root is None:
            raise FatalError(f"{source}: the scenario is empty.", "Add a 'turns:' list.")
        top = doc.mapping(root, "scenario", TOP_KEYS)
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


class ScenarioDoc:
    """Turns yaml nodes into scenario values, failing with file:line and the YAML path."""

    def __init__(self, source: str, loader: Any) -> None:
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
        keys = self.mapping(node, where, TURN_KEYS)
        text = self.string(keys["text"], f"{where}: 'text'") if "text" in keys else None
        thinking = None
        if "thinking" in keys:  # may be empty: models that omit thinking text still sign the block
            thinking = cast(str, self.value(keys["thinking"], f"{where}: 'thinking'", (str,), "a string"))
        redacted = False
        if "redacted_thinking" in keys:
            where_r = f"{where}: 'redacted_thinking'"
            redacted = bool(self.value(keys["redacted_thinking"], where_r, (bool,), "true or false"))
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
            if calls and stop not in TOOL_STOPS:
                raise self.fail(
                    keys["stop_reason"],
                    f"{where}: stop_reason '{stop}' cannot come with tool_calls",
                    f"Use one of {', '.join(TOOL_STOPS)}, or drop the tool_calls.",
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
            thinking=thinking,
            redacted_thinking=redacted,
            tool_calls=calls,
            expect=self.expect(keys["expect"], where) if "expect" in keys else None,
            fault=self.fault(keys["fault"], where) if "fault" in keys else None,
            usage=self.usage(keys["usage"], where) if "usage" in keys else Usage(),
        )

    def tool_call(self, node: yaml.Node, where: str) -> ToolCall:
        keys = self.mapping(node, where, CALL_KEYS)
        for key in CALL_KEYS:
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
        keys = self.mapping(node, f"{where}, expect", EXPECT_KEYS)
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
        keys = self.mapping(node, at, FAULT_KEYS)
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
        keys = self.mapping(node, f"{where}, usage", USAGE_KEYS)
        counts = {
            key: int(self.number(value, f"{where}, usage: '{key}'", integer=True))
            for key, value in keys.items()
        }
        return Usage(**counts)
