"""The tool-use loop: ask the model, run its tools, repeat until an exception says why it ended."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.agent import prompts
from bot.agent.ledger import Ledger
from bot.agent.model import Model
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
MAX_TRUNCATIONS = 3
MAX_NUDGES = 2
WRAP_UP_AT = 0.8


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
                user_blocks = user_blocks + self._wrap_up_notice()
            if user_blocks:
                self.messages.append({"role": "user", "content": user_blocks})
            response = self.model.complete(
                self.system, self.tools.definitions(), self.messages, self.limits.max_tokens
            )
            self.turns += 1
            call = self.ledger.record(response.usage, response.request_id)
            # A malformed tool_use (no name or id, input not an object) is answered with an error,
            # and sent back in a form the API accepts, or the next request would fail.
            content, self._malformed = self._checker.check(response.content)
            if self._paused and self.messages[-1]["role"] == "assistant":
                # A paused turn continues the same assistant message, so roles keep alternating.
                self.messages[-1]["content"] = self.messages[-1]["content"] + content
            else:
                self.messages.append({"role": "assistant", "content": content})
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
