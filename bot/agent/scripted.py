"""A scripted Model that replays a scenario file: the demo and the tests run the agent without Claude."""

from __future__ import annotations

import json
from typing import Any

from bot.agent.catalogue import catalogue
from bot.agent.ledger import Usage
from bot.agent.model import ModelResponse
from bot.agent.scenario import Scenario
from bot.agent.scenario_play import (
    check_expect,
    estimate_tokens,
    id_factory,
    scripted_thinking,
    to_content_blocks,
    tokens_of,
)
from bot.agent.sizes import COMPACT, JsonLength
from bot.exceptions import FatalError


class ScriptedModel:
    """Answers each call with the scenario's next turn and checks what Specship sent against it.

    Usage imitates prompt caching: everything sent before is a cached prefix of the next request.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.name = f"scripted:{scenario.model or catalogue().default}"
        self.family: str | None = None
        self.index = 0
        self._ids = id_factory(seed=scenario.source)
        self._cached = 0
        self._length = JsonLength(COMPACT)

    def complete(
        self,
        system: str,
        tools: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        max_tokens: int,
    ) -> ModelResponse:
        if self.index >= len(self.scenario.turns):
            raise FatalError(
                f"The scenario {self.scenario.source} has no turn {self.index + 1}: "
                "the agent asked for more turns than were scripted.",
                "Add turns to the scenario, or check why the run did not end where it should.",
            )
        turn = self.scenario.turns[self.index]
        self.index += 1
        if turn.expect is not None:
            problems = check_expect(turn.expect, messages)
            if problems:
                raise FatalError(
                    f"{self.scenario.source}:{turn.line}: turn {turn.number} expected something "
                    f"Specship did not send: {'; '.join(problems)}.",
                    "Update the scenario to match the harness, or fix the regression.",
                )
        content = to_content_blocks(turn, self._ids, scripted_thinking(turn))
        # estimate_tokens(messages), each message measured once (compact JSON, as estimate_tokens)
        total = estimate_tokens(system) + estimate_tokens(tools) + tokens_of(self._length(messages))
        cache_read = min(self._cached, total)
        usage = Usage(
            input_tokens=turn.usage.input_tokens if turn.usage.input_tokens is not None else 4,
            output_tokens=(
                turn.usage.output_tokens
                if turn.usage.output_tokens is not None
                else estimate_tokens(json.dumps(content))
            ),
            cache_creation_input_tokens=(
                turn.usage.cache_creation_input_tokens
                if turn.usage.cache_creation_input_tokens is not None
                else max(total - cache_read, 0)
            ),
            cache_read_input_tokens=(
                turn.usage.cache_read_input_tokens
                if turn.usage.cache_read_input_tokens is not None
                else cache_read
            ),
        )
        self._cached = total
        return ModelResponse(content, turn.stop_reason, usage, f"req_scripted_{turn.number:03d}")
