"""What the agent loop talks to: the Model protocol and one assistant turn as plain API dicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot.agent.ledger import Usage


@dataclass(frozen=True)
class ModelResponse:
    """One assistant message as plain API dicts."""

    content: list[dict[str, Any]]
    stop_reason: str
    usage: Usage
    request_id: str = ""


class Model(Protocol):
    """Anything that answers one Messages API turn: Claude, or a scripted scenario."""

    name: str

    def complete(
        self,
        system: str,
        tools: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        max_tokens: int,
    ) -> ModelResponse: ...
