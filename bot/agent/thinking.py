"""The `thinking` setting as the Messages API spells it, checked against what the model accepts."""

from __future__ import annotations

from typing import Any

from bot.agent.catalogue import ModelSpec
from bot.exceptions import FatalError

MIN_BUDGET = 1024  # the API's floor for thinking.budget_tokens
SETTINGS = ("auto", "adaptive", "enabled", "off")

CANNOT_TURN_OFF = "The model {model} cannot turn thinking off (it always thinks)."
CANNOT_TURN_OFF_FIX = (
    "Set thinking: auto (the model decides), or choose a model that can (docs/configuration.md#thinking)."
)
NOT_ACCEPTED = "The model {model} does not accept thinking: {setting} (it accepts {accepts})."
NOT_ACCEPTED_FIX = (
    "Set thinking: auto, or one of the modes the model accepts (docs/configuration.md#thinking)."
)
BAD_BUDGET = (
    "thinking: enabled needs thinking-budget-tokens of at least {floor} and below max-tokens "
    "({max_tokens}); it is {budget}."
)
BAD_BUDGET_FIX = "Set thinking-budget-tokens between {floor} and max-tokens, or use thinking: adaptive."


def thinking_param(
    setting: str, budget: int, max_tokens: int, model: str, spec: ModelSpec | None
) -> dict[str, Any] | None:
    """The request's `thinking` object; None sends none (the model's default applies).

    `spec` is the model's catalogue entry when the id is known exactly; without one the API judges.
    """
    if setting == "auto":
        return None
    if setting == "enabled" and not MIN_BUDGET <= budget < max_tokens:
        raise FatalError(
            BAD_BUDGET.format(floor=MIN_BUDGET, max_tokens=max_tokens, budget=budget),
            BAD_BUDGET_FIX.format(floor=MIN_BUDGET),
        )
    kind = setting
    if setting == "off":
        off = spec.thinking.off if spec is not None else "disabled"
        if off is None:
            raise FatalError(CANNOT_TURN_OFF.format(model=model), CANNOT_TURN_OFF_FIX)
        kind = off
    if spec is not None and kind not in spec.thinking.accepts:
        raise FatalError(
            NOT_ACCEPTED.format(model=model, setting=setting, accepts=", ".join(spec.thinking.accepts)),
            NOT_ACCEPTED_FIX,
        )
    if kind == "enabled":
        return {"type": "enabled", "budget_tokens": budget}
    return {"type": kind}
