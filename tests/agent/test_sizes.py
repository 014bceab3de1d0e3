"""The conversation's JSON length, kept per message, always equals measuring it all again."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.agent.sizes import COMPACT, DEFAULT, JsonLength


def _conversation() -> list[list[dict[str, Any]]]:
    """The conversation after each step of a run: turns appended, the newest user turn grown by
    a new content list (as the loop does after an answer it did not store), a string content."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Implement 002 — fälligkeit"}]
    states = [list(messages)]
    for turn in range(6):
        messages.append(
            {"role": "assistant", "content": [{"type": "tool_use", "id": f"t{turn}", "input": {}}]}
        )
        states.append(list(messages))
        messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{turn}"}]})
        states.append(list(messages))
        messages[-1]["content"] = messages[-1]["content"] + [{"type": "text", "text": "x" * turn}]
        states.append(list(messages))
    messages[0] = {"role": "user", "content": "another task"}  # a message replaced outright
    states.append(list(messages))
    return states


@pytest.mark.parametrize("separators", [DEFAULT, COMPACT])
def test_the_kept_length_equals_a_fresh_measure_at_every_step(separators: tuple[str, str]) -> None:
    length = JsonLength(separators)
    for state in _conversation():
        assert length(state) == len(json.dumps(state, separators=separators))


def test_an_empty_conversation_and_an_extra_key() -> None:
    length = JsonLength()
    assert length([]) == len(json.dumps([]))
    message: dict[str, Any] = {"role": "user", "content": "hi"}
    assert length([message]) == len(json.dumps([message]))
    message["name"] = "a key the loop never adds"
    assert length([message]) == len(json.dumps([message]))


class Counting(JsonLength):
    def __init__(self) -> None:
        super().__init__()
        self.measured = 0

    def measure(self, message: dict[str, Any]) -> int:
        self.measured += 1
        return super().measure(message)


def test_each_message_is_measured_once() -> None:
    length = Counting()
    states = _conversation()
    for state in states:
        length(state)
    # one measure per distinct (message, content) the steps showed, not one per message per step
    distinct = {(id(m), id(m["content"])) for state in states for m in state}
    assert length.measured == len(distinct) < sum(len(state) for state in states)
