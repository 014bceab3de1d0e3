"""Thinking in the Anthropic emulator: the `thinking` parameter, signed blocks, and what the API refuses.

What is checked, as Anthropic's thinking and preserved-thinking docs describe it (checked 2026-12-03):

- `thinking.type` against the model (e.g. `disabled` is a 400 on the always-on models), budgets.
- Every thinking / redacted_thinking block sent back must be one the API produced, unedited
  (`Invalid signature`).
- With thinking on, the assistant turn whose tool calls the request answers must still start with
  its thinking block (the classic rule for tool use with thinking).
- On models with preserved thinking, a block's prefix (system, tools, every earlier message) must be
  unchanged, and no thinking block between others may be left out or moved ("bound to a different
  conversation"). Cache breakpoints are not part of the prefix: Anthropic documents moving the last
  breakpoint forward each turn, so the emulator ignores `cache_control` here as its cache does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass
from typing import Any

from bot.agent.scenario import Turn
from tests.fakes.anthropic_models import ModelCard

ErrorReply = tuple[int, str, str]
TYPES = ("enabled", "disabled", "adaptive", "between_tools")
THINKING_KEYS = frozenset({"type", "budget_tokens", "display", "block_binding"})
DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
BOUND = (
    "messages.{i}.content.{j}: Invalid `signature` in `thinking` block. The block is bound to a "
    "different conversation. Remove the block, or set "
    '`thinking.block_binding.prefix_mismatch_behavior` to "drop_block".'
)
FINAL_MUST_THINK = (
    "messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. "
    "When `thinking` is enabled, a final `assistant` message must start with a thinking block "
    "(preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include "
    "thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please "
    f"consult our documentation at {DOCS}"
)


@dataclass(frozen=True)
class Mode:
    """Thinking for one request: on or off, and how its text is shown."""

    on: bool
    display: str | None = None


@dataclass(frozen=True)
class Issued:
    """A thinking block the emulator produced: what it said, for which prefix, after which block."""

    kind: str  # thinking | redacted_thinking
    text: str
    model: str
    prefix: str
    response: str
    previous: str | None  # the key of the thinking block before it in its conversation


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _key(block: dict[str, Any]) -> str | None:
    if block.get("type") == "thinking":
        return str(block.get("signature", ""))
    if block.get("type") == "redacted_thinking":
        return str(block.get("data", ""))
    return None


class ThinkingBook:
    """Signs the thinking blocks the emulator emits and checks the ones requests send back."""

    def __init__(self, seed: str) -> None:
        self._secret = hashlib.sha256(f"thinking:{seed}".encode()).digest()
        self.issued: dict[str, Issued] = {}
        self._responses: dict[str, list[str]] = {}  # response id -> keys of its thinking blocks
        self._tool_uses: dict[str, str] = {}  # tool_use id -> response id

    # -- the parameter ------------------------------------------------------------------------

    def mode(self, body: dict[str, Any], card: ModelCard) -> Mode | ErrorReply:
        thinking = body.get("thinking")
        if thinking is None:
            return Mode(card.thinking_default)
        if not isinstance(thinking, dict) or thinking.get("type") not in TYPES:
            tag = thinking.get("type") if isinstance(thinking, dict) else thinking
            expected = ", ".join(f"'{t}'" for t in TYPES)
            return (
                400,
                "invalid_request_error",
                (
                    f"thinking: Input tag '{tag}' found using 'type' does not match any of the "
                    f"expected tags: {expected}"
                ),
            )
        extra = sorted(set(thinking) - THINKING_KEYS)
        if extra:
            return 400, "invalid_request_error", f"thinking.{extra[0]}: Extra inputs are not permitted"
        kind = thinking["type"]
        if kind not in card.thinking_accepts:
            hint = ""
            if "adaptive" in card.thinking_accepts:
                hint = (
                    ' Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
                )
            return (
                400,
                "invalid_request_error",
                f'"thinking.type.{kind}" is not supported for this model.{hint}',
            )
        if kind == "enabled":
            budget = thinking.get("budget_tokens")
            if not isinstance(budget, int) or isinstance(budget, bool):
                return 400, "invalid_request_error", "thinking.enabled.budget_tokens: Field required"
            if budget < 1024:
                return (
                    400,
                    "invalid_request_error",
                    ("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"),
                )
            if budget >= int(body.get("max_tokens") or 0):
                return (
                    400,
                    "invalid_request_error",
                    (
                        f"`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
                        f"documentation at {DOCS}"
                    ),
                )
        display = thinking.get("display")
        if display not in (None, "summarized", "omitted"):
            return 400, "invalid_request_error", "thinking.display: Input should be 'summarized' or 'omitted'"
        return Mode(kind in ("adaptive", "enabled"), display)

    # -- producing blocks ---------------------------------------------------------------------

    def _prefix(self, body: dict[str, Any], messages: list[Any]) -> str:
        canonical = json.dumps(
            {
                "system": _strip(body.get("system")),
                "tools": _strip(body.get("tools")),
                "messages": _strip(messages),
            },
            sort_keys=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    def _last_key(self, messages: list[Any]) -> str | None:
        last = None
        for message in messages:
            if message.get("role") == "assistant" and isinstance(message.get("content"), list):
                for block in message["content"]:
                    key = _key(block)
                    if key is not None and key in self.issued:
                        last = key
        return last

    def issue(
        self, body: dict[str, Any], card: ModelCard, turn: Turn, mode: Mode, response: str
    ) -> list[dict[str, Any]]:
        """The signed thinking blocks a turn answers with (none while thinking is off)."""
        if not mode.on or (turn.thinking is None and not turn.redacted_thinking):
            return []
        messages = list(body.get("messages") or [])
        prefix = self._prefix(body, messages)
        previous = self._last_key(messages)
        blocks: list[dict[str, Any]] = []
        wanted = []
        if turn.thinking is not None:
            wanted.append(("thinking", "" if mode.display == "omitted" else turn.thinking))
        if turn.redacted_thinking:
            wanted.append(("redacted_thinking", ""))
        for kind, text in wanted:
            material = f"{card.id}|{prefix}|{kind}|{text}|{response}|{len(blocks)}"
            mac = hmac.new(self._secret, material.encode(), hashlib.sha256)
            key = base64.b64encode(mac.digest() * 3).decode()
            self.issued[key] = Issued(kind, text, card.id, prefix, response, previous)
            self._responses.setdefault(response, []).append(key)
            previous = key
            if kind == "thinking":
                blocks.append({"type": "thinking", "thinking": text, "signature": key})
            else:
                blocks.append({"type": "redacted_thinking", "data": key})
        return blocks

    def link(self, response: str, content: list[dict[str, Any]]) -> None:
        """Remember which response each tool call came from (for the final-assistant rule)."""
        for block in content:
            if block.get("type") == "tool_use":
                self._tool_uses[str(block["id"])] = response

    # -- checking what comes back -------------------------------------------------------------

    def check(self, body: dict[str, Any], card: ModelCard, mode: Mode) -> ErrorReply | None:
        messages = list(body.get("messages") or [])
        kept: list[tuple[int, int, Issued, str]] = []
        for i, message in enumerate(messages):
            content = message.get("content")
            if message.get("role") != "assistant" or not isinstance(content, list):
                continue
            for j, block in enumerate(content):
                key = _key(block)
                if key is None:
                    continue
                issued = self.issued.get(key)
                field = "signature" if block["type"] == "thinking" else "data"
                if issued is None or (block["type"] == "thinking" and block.get("thinking") != issued.text):
                    return (
                        400,
                        "invalid_request_error",
                        (f"messages.{i}.content.{j}: Invalid `{field}` in `{block['type']}` block."),
                    )
                if card.preserved_thinking:
                    start = min(
                        k for k, b in enumerate(content)
                        if _key(b) in self.issued and self.issued[str(_key(b))].response == issued.response
                    )  # fmt: skip
                    partial = [{**message, "content": content[:start]}] if start else []
                    if self._prefix(body, messages[:i] + partial) != issued.prefix:
                        return 400, "invalid_request_error", BOUND.format(i=i, j=j)
                kept.append((i, j, issued, key))
        if card.preserved_thinking:
            for (_, _, _, before), (i, j, issued, _) in itertools.pairwise(kept):
                if issued.previous != before:  # a block between them was left out or moved
                    return 400, "invalid_request_error", BOUND.format(i=i, j=j)
        return self._final_assistant(messages) if mode.on else None

    def _final_assistant(self, messages: list[Any]) -> ErrorReply | None:
        if len(messages) < 2 or messages[-1].get("role") != "user" or messages[-2].get("role") != "assistant":
            return None
        content = messages[-2].get("content")
        if not isinstance(content, list) or not content:
            return None
        uses = [str(b["id"]) for b in content if b.get("type") == "tool_use"]
        responses = {self._tool_uses[u] for u in uses if u in self._tool_uses}
        if not any(self._responses.get(r) for r in responses):
            return None
        if content[0].get("type") in ("thinking", "redacted_thinking"):
            return None
        return (
            400,
            "invalid_request_error",
            FINAL_MUST_THINK.format(i=len(messages) - 2, found=content[0].get("type")),
        )
