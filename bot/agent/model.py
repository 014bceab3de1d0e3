"""What the agent loop talks to: the Model protocol and one assistant turn as plain API dicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot.agent.ledger import Usage
from bot.exceptions import FatalError


@dataclass(frozen=True)
class ModelResponse:
    """One assistant message as plain API dicts.

    `failed_attempts` are earlier tries of this same call that the API billed (a stream that broke
    after it started) although they gave no usable answer; the ledger records them too.
    """

    content: list[dict[str, Any]]
    stop_reason: str
    usage: Usage
    request_id: str = ""
    failed_attempts: tuple[Usage, ...] = ()


class CallFailed(FatalError):
    """A model call that failed for good after attempts the API billed; they still count."""

    def __init__(self, cause: str, fix: str, billed: tuple[Usage, ...] = ()) -> None:
        super().__init__(cause, fix)
        self.billed = billed


class Model(Protocol):
    """Anything that answers one Messages API turn: Claude, or a scripted scenario."""

    name: str
    family: str | None  # the model's family when its id alone does not say (the Models API's line)

    def complete(
        self,
        system: str,
        tools: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        max_tokens: int,
    ) -> ModelResponse: ...
