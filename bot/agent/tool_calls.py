"""Tool calls as the model sent them, made valid to send back: a malformed one is answered, never run."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# What the API accepts back in the conversation: a tool name of these characters, a unique id,
# and an object as input.
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
PLACEHOLDER_NAME = "invalid_tool_call"

NO_NAME = (
    "This tool call had no valid tool name (it sent {got}), so nothing ran. Call a tool by its name: "
    "str_replace_based_edit_tool, search, run_tests, run_checks, ask_clarification or submit_report."
)
NO_ID = "This tool call had no valid id (it sent {got}), so nothing ran. Send the call again."
NOT_AN_OBJECT = (
    "The input of this {name} call was {got}, not a JSON object, so nothing ran. Send it again with "
    'the arguments as an object, for example {{"pattern": "def main"}} for search.'
)


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False, default=repr)
    kind = {str: "a string", list: "a list", int: "a number", float: "a number", bool: "a boolean"}
    label = kind.get(type(value), type(value).__name__)
    return f"{label} {text[:80]}{'…' if len(text) > 80 else ''}"


@dataclass
class ToolCallChecker:
    """Checks each assistant turn's tool_use blocks; remembers ids, which must stay unique."""

    seen: set[str] = field(default_factory=set)
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _fresh_id(self) -> str:
        while True:
            candidate = f"toolu_specship_{next(self._counter):04d}"
            if candidate not in self.seen:
                return candidate

    def check(self, content: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
        """The content with every tool_use block valid to send back, and the problem of each
        malformed call by its (possibly new) id: those calls get an error result and do not run."""
        fixed: list[dict[str, Any]] = []
        problems: dict[str, str] = {}
        for block in content:
            if not isinstance(block, dict) or block.get("type") != "tool_use":
                fixed.append(block)
                continue
            found: list[str] = []
            tool_id = block.get("id")
            if not isinstance(tool_id, str) or not tool_id or tool_id in self.seen:
                found.append(NO_ID.format(got=_shown(tool_id)))
                tool_id = self._fresh_id()
            self.seen.add(tool_id)
            name = block.get("name")
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                found.append(NO_NAME.format(got=_shown(name)))
                name = PLACEHOLDER_NAME
            tool_input = block.get("input")
            if not isinstance(tool_input, dict):
                found.append(NOT_AN_OBJECT.format(name=name, got=_shown(tool_input)))
                tool_input = {}
            fixed.append({**block, "id": tool_id, "name": name, "input": tool_input})
            if found:
                problems[tool_id] = " ".join(found)
        return fixed, problems
