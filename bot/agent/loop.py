"""The tool-use loop: ask the model, run its tools, repeat until an exception says why it ended."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.agent import prompts
from bot.agent.ledger import Ledger
from bot.agent.model import CallFailed, Model, ModelResponse
from bot.agent.sizes import JsonLength
from bot.agent.tool_calls import ToolCallChecker
from bot.agent.tools import Toolbox, ToolResult
from bot.agent.transcript import Transcript
from bot.exceptions import (
    LimitReached,
    ModelRefused,
    ModelTruncated,
    NeedsClarification,
    Submitted,
)

TRUNCATED_TOOL = "Your output was cut off at max_tokens, so this call was not run. Resend it more concisely."
END_TURN_NUDGE = (
    "You ended your turn without a tool call. Continue the work with the tools, then call "
    "submit_report (or ask_clarification if the spec is ambiguous)."
)
EMPTY_REPLY_NUDGE = (
    "Your last answer was empty. Continue the work with the tools, then call submit_report "
    "(or ask_clarification if the spec is ambiguous)."
)
MAX_TRUNCATIONS = 3
MAX_NUDGES = 2
MAX_EMPTY_REPLIES = 1  # nudged once; a second empty answer ends the run cleanly
WRAP_UP_AT = 0.8
# Characters per token when Specship estimates a prompt itself: fewer than the usual 4 on purpose,
# so the worst case of a call is not understated (newer tokenizers count ~30% more tokens).
CHARS_PER_TOKEN = 3


@dataclass(frozen=True)
class Limits:
    """When the loop must stop; the model is told to wrap up at WRAP_UP_AT of any of them."""

    max_turns: int = 60
    max_cost_usd: float = 5.0
    max_seconds: float = 45 * 60
    max_tokens: int = 16_000


@dataclass
class Agent:
    """One conversation with the model over one workspace's tools."""

    model: Model
    tools: Toolbox
    ledger: Ledger
    limits: Limits
    transcript: Transcript
    system: str
    clock: Callable[[], float] = time.monotonic
    messages: list[dict[str, Any]] = field(default_factory=list)
    turns: int = 0
    started: float = 0.0
    _pending: list[dict[str, Any]] = field(default_factory=list)
    _checker: ToolCallChecker = field(default_factory=ToolCallChecker)
    _malformed: dict[str, str] = field(default_factory=dict)
    _paused: bool = False
    _warned: bool = False
    _truncations: int = 0
    _nudges: int = 0
    _empty_replies: int = 0
    _length: JsonLength = field(default_factory=JsonLength)

    def run(self, task: str) -> None:
        """Start the conversation; returns only by raising an AgentStop (or an error)."""
        self.started = self.clock()
        self.messages = []
        self.transcript.write("task", {"system": self.system, "task": task})
        self._loop([{"type": "text", "text": task}])

    def resume(self, text: str, *, answer_is_error: bool = True) -> None:
        """Continue after a stop (e.g. gate feedback after submit_report); same protocol rules."""
        blocks, self._pending = self._pending, []
        for block in blocks:
            if block.get("content") is None:  # the finishing call's answer, sent only now
                block["content"] = text
                if answer_is_error:
                    block["is_error"] = True
        if not blocks:
            blocks.append({"type": "text", "text": text})
        self.transcript.write("resume", {"text": text})
        self._loop(blocks)

    # -- the loop ------------------------------------------------------------------------------
    def _loop(self, user_blocks: list[dict[str, Any]]) -> None:
        while True:
            self._check_limits()
            if not self._paused:
                user_blocks = with_notice(user_blocks, self._wrap_up_notice())
            if user_blocks:
                self._add_user(user_blocks)
            self._check_budget()
            response = self._complete()
            self.turns += 1
            call = self.ledger.record(response.usage, response.request_id)
            # A malformed tool_use (no name or id, input not an object) is answered with an error,
            # and sent back in a form the API accepts, or the next request would fail.
            content, self._malformed = self._checker.check(response.content)
            if response.stop_reason == "end_turn" and not sendable(content):
                user_blocks = self._empty_reply(response, call.cost_usd)
                continue
            self._store(content)
            self._paused = response.stop_reason == "pause_turn"
            self.transcript.write(
                "assistant",
                {
                    "turn": self.turns,
                    "stop_reason": response.stop_reason,
                    "content": response.content,
                    "usage": vars(response.usage) | {"cost_usd": round(call.cost_usd, 6)},
                },
            )
            user_blocks = self._handle(response.stop_reason, content)

    def _complete(self) -> ModelResponse:
        """One model call; attempts the API billed without an answer go into the ledger too."""
        try:
            response = self.model.complete(
                self.system, self.tools.definitions(), self.messages, self.limits.max_tokens
            )
        except CallFailed as exc:
            for usage in exc.billed:
                self.ledger.record(usage, failed=True)
            raise
        for usage in response.failed_attempts:
            self.ledger.record(usage, failed=True)
        return response

    def _store(self, content: list[dict[str, Any]]) -> None:
        """Keep the answer as sent back next time: thinking blocks unchanged, blank text dropped.

        Blank text blocks are the only edit: the API refuses them in a request. An answer with
        nothing left is not stored at all (the last user turn then grows by the next blocks).
        """
        kept = [block for block in content if not blank(block)]
        if not kept:
            return
        if self._paused and self.messages[-1]["role"] == "assistant":
            # A paused turn continues the same assistant message, so roles keep alternating.
            self.messages[-1]["content"] = self.messages[-1]["content"] + kept
        else:
            self.messages.append({"role": "assistant", "content": kept})

    def _add_user(self, blocks: list[dict[str, Any]]) -> None:
        """A new user turn; after an answer that was not stored, the last user turn grows instead."""
        if self.messages and self.messages[-1]["role"] == "user":
            self.messages[-1]["content"] = self.messages[-1]["content"] + blocks
        else:
            self.messages.append({"role": "user", "content": blocks})

    def _empty_reply(self, response: ModelResponse, cost: float) -> list[dict[str, Any]]:
        """An empty end_turn is never stored (the next request would be a 400): nudge once, then stop."""
        self.transcript.write(
            "assistant",
            {
                "turn": self.turns,
                "stop_reason": response.stop_reason,
                "content": response.content,
                "empty": True,
                "usage": vars(response.usage) | {"cost_usd": round(cost, 6)},
            },
        )
        self._empty_replies += 1
        if self._empty_replies > MAX_EMPTY_REPLIES:
            raise LimitReached("the model answered with an empty message twice")
        return [{"type": "text", "text": EMPTY_REPLY_NUDGE}]

    def _check_budget(self) -> None:
        """Stop before a call whose worst case (prompt estimate + max_tokens) would pass max-cost-usd."""
        chars = len(self.system) + len(json.dumps(self.tools.definitions())) + self._length(self.messages)
        prompt = math.ceil(chars / CHARS_PER_TOKEN)
        worst = self.ledger.price.worst_case(prompt, self.limits.max_tokens)
        spent = self.ledger.cost_usd
        if spent + worst > self.limits.max_cost_usd:
            raise LimitReached(
                f"cost limit: the next call could cost up to ${worst:.2f} and ${spent:.2f} of "
                f"${self.limits.max_cost_usd:.2f} is spent"
            )

    def _handle(self, stop_reason: str, content: list[dict[str, Any]]) -> list[dict[str, Any]]:
        tool_uses = [block for block in content if block.get("type") == "tool_use"]
        if stop_reason == "refusal":
            raise ModelRefused("the model declined to continue (stop_reason refusal)")
        if stop_reason == "model_context_window_exceeded":
            raise ModelTruncated("the conversation outgrew the model's context window")
        if stop_reason == "pause_turn":
            # The API paused a long turn: send the assistant content back unchanged to continue it.
            return []
        if stop_reason == "max_tokens":
            self._truncations += 1
            if self._truncations >= MAX_TRUNCATIONS:
                raise ModelTruncated(f"model output was cut off at max_tokens {self._truncations} times")
            if tool_uses:
                return self._results(tool_uses, truncated=True)
            return [{"type": "text", "text": "Your answer was cut off. Continue, more concisely."}]
        if tool_uses:
            return self._results(tool_uses, truncated=False)
        self._nudges += 1
        if self._nudges > MAX_NUDGES:
            raise LimitReached("the model stopped without calling submit_report")
        return [{"type": "text", "text": END_TURN_NUDGE}]

    def _results(self, tool_uses: list[dict[str, Any]], *, truncated: bool) -> list[dict[str, Any]]:
        """Exactly one tool_result per tool_use id; ending tools stop after all are answered."""
        blocks: list[dict[str, Any]] = []
        stop: Submitted | NeedsClarification | None = None
        for use in tool_uses:
            if truncated:
                result = ToolResult(TRUNCATED_TOOL, is_error=True)
            elif use["id"] in self._malformed:
                result = ToolResult(self._malformed[use["id"]], is_error=True)
            else:
                try:
                    result = self.tools.execute(use["name"], use.get("input"))
                except (Submitted, NeedsClarification) as exc:
                    if stop is None:
                        stop = exc
                        blocks.append({"type": "tool_result", "tool_use_id": use["id"], "content": None})
                        self.transcript.write("tool", {"name": use["name"], "input": use.get("input")})
                        continue
                    result = ToolResult("Only one finishing call per turn is used.", is_error=True)
            block = {"type": "tool_result", "tool_use_id": use["id"], "content": result.content}
            if result.is_error:
                block["is_error"] = True
            blocks.append(block)
            self.transcript.write("tool", {"name": use["name"], "input": use.get("input"), **block})
        if stop is not None:
            # The stop's own tool_result is sent later (gate feedback or an answer), with these.
            self._pending = blocks
            raise stop
        return blocks

    # -- limits --------------------------------------------------------------------------------
    def _fractions(self) -> list[tuple[str, float, str, str]]:
        elapsed = self.clock() - self.started
        cost = self.ledger.cost_usd
        return [
            ("turn", self.turns / self.limits.max_turns, str(self.turns), str(self.limits.max_turns)),
            (
                "cost",
                cost / self.limits.max_cost_usd,
                f"${cost:.2f}",
                f"${self.limits.max_cost_usd:.2f}",
            ),
            (
                "time",
                elapsed / self.limits.max_seconds,
                f"{elapsed / 60:.0f} min",
                f"{self.limits.max_seconds / 60:.0f} min",
            ),
        ]

    def _check_limits(self) -> None:
        for name, fraction, used, allowed in self._fractions():
            if fraction >= 1.0:
                raise LimitReached(f"{name} limit reached ({used} of {allowed})")

    def _wrap_up_notice(self) -> list[dict[str, Any]]:
        if self._warned:
            return []
        for name, fraction, used, allowed in self._fractions():
            if fraction >= WRAP_UP_AT:
                self._warned = True
                text = prompts.render(
                    "wrap_up.md",
                    percent=int(fraction * 100),
                    limit=name,
                    used=used,
                    allowed=allowed,
                )
                return [{"type": "text", "text": text}]
        return []


def sendable(content: list[dict[str, Any]]) -> bool:
    """Whether an answer can be stored: a tool call, a thinking block or text that is not blank."""
    return any(not blank(block) for block in content)


def blank(block: dict[str, Any]) -> bool:
    """A text block with nothing but whitespace: the API refuses it in a request."""
    return block.get("type") == "text" and not str(block.get("text", "")).strip()


def with_notice(blocks: list[dict[str, Any]], notice: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add a harness notice where it does not invite an empty reply: inside the last tool_result.

    Text placed after tool_result blocks teaches the model to wait for the user and answer with an
    empty end_turn (Anthropic's stop-reason guide); a notice on a plain text turn is just more text.
    """
    if not notice:
        return blocks
    if not blocks or blocks[-1].get("type") != "tool_result" or blocks[-1].get("content") is None:
        return blocks + notice
    last = dict(blocks[-1])
    content = last.get("content", "")
    items = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
    last["content"] = [item for item in items if item.get("text") != ""] + notice
    return [*blocks[:-1], last]
