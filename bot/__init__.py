"""Specship: the three swappable parts (model, GitHub host, process runner) as Protocols."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.model import ModelResponse


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
