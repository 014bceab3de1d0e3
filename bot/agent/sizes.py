"""The JSON length of a conversation, each message measured once instead of once per request."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

COMPACT = (",", ":")
DEFAULT = (", ", ": ")


class JsonLength:
    """len(json.dumps(messages, separators=...)), kept per message between requests.

    Every request repeats the whole conversation, so measuring it all again each turn grows with
    the square of the run's length. A list's JSON is its items' JSON joined, so each message is
    measured once and its length reused while the message still holds the same content object;
    the loop only ever replaces the newest message's content (a new list), never edits it in place.
    """

    def __init__(self, separators: tuple[str, str] = DEFAULT) -> None:
        self.separators = separators
        # id(message) -> (its content object, kept alive so the id cannot be reused, role, length)
        self._known: dict[int, tuple[Any, Any, int]] = {}

    def __call__(self, messages: Sequence[dict[str, Any]]) -> int:
        total = 2 + len(self.separators[0]) * max(len(messages) - 1, 0)
        live: dict[int, tuple[Any, Any, int]] = {}
        for message in messages:
            content, role = message.get("content"), message.get("role")
            entry = self._known.get(id(message))
            if entry is None or entry[0] is not content or entry[1] != role or len(message) != 2:
                entry = (content, role, self.measure(message))
            live[id(message)] = entry
            total += entry[2]
        self._known = live
        return total

    def measure(self, message: dict[str, Any]) -> int:
        return len(json.dumps(message, separators=self.separators))
