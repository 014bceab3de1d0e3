"""Replaying a scenario: tool_use ids, content blocks, token estimates, and checked expectations."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from bot.agent.scenario import B62, Expect, IdFactory, Turn


def id_factory(prefix: str = "toolu_", seed: str = "specship") -> IdFactory:
    """Deterministic ids shaped like the API's (e.g. toolu_01 + 22 base-62 characters)."""
    counter = itertools.count(1)

    def make() -> str:
        digest = int.from_bytes(hashlib.sha256(f"{seed}:{prefix}:{next(counter)}".encode()).digest())
        chars = []
        for _ in range(22):
            digest, rest = divmod(digest, 62)
            chars.append(B62[rest])
        return f"{prefix}01{''.join(chars)}"

    return make


def to_content_blocks(
    turn: Turn, ids: IdFactory, thinking: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The assistant content blocks of a turn, as the Messages API returns them.

    `thinking` are the signed thinking blocks the caller made for the turn; they come first.
    """
    blocks: list[dict[str, Any]] = [dict(block) for block in thinking]
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


def scripted_thinking(turn: Turn) -> list[dict[str, Any]]:
    """Thinking blocks for an in-process replay: a stable stand-in signature, nothing to verify it."""
    blocks: list[dict[str, Any]] = []
    if turn.thinking is not None:
        digest = hashlib.sha256(f"{turn.number}:{turn.thinking}".encode()).hexdigest()
        blocks.append({"type": "thinking", "thinking": turn.thinking, "signature": f"scripted-{digest}"})
    if turn.redacted_thinking:
        digest = hashlib.sha256(f"{turn.number}:redacted".encode()).hexdigest()
        blocks.append({"type": "redacted_thinking", "data": f"scripted-{digest}"})
    return blocks


def estimate_tokens(value: object) -> int:
    """A rough token count: a string's length, or its compact JSON's, divided by four."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return tokens_of(len(text))


def tokens_of(chars: int) -> int:
    """estimate_tokens for a text of `chars` characters (at least one token)."""
    return max(1, math.ceil(chars / 4))


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
