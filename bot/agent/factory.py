"""The model a run talks to: a scripted scenario (`scripted:FILE`) or Claude via the configured provider.

Everything here happens before the first paid call: the id is translated for the provider, checked
with the Models API where there is one, priced (by its family when the catalogue does not know it),
and its max-tokens and thinking settings are checked against what the model allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot import actions
from bot.agent.catalogue import catalogue
from bot.agent.ledger import NO_PRICE, NO_PRICE_FIX
from bot.agent.model import Model
from bot.exceptions import FatalError
from bot.settings import Settings

NO_MODEL = "No model: ANTHROPIC_API_KEY is not set and no scripted scenario was named."
NO_MODEL_FIX = (
    "Export ANTHROPIC_API_KEY, or pass --model scripted:examples/taskboard/scenarios/002-task-due-dates.yaml "
    "to replay the bundled session offline."
)
NOT_ON_PROVIDER = "The model {model} is not offered on {provider}."
NOT_ON_PROVIDER_FIX = "Choose a model that {provider} offers (docs/configuration.md#models lists the ids)."


def _warn(message: str) -> None:
    actions.runtime().annotate("warning", message)


def provider_model_id(model: str, provider: str) -> str:
    """A Claude API id translated to the provider's form (Bedrock and Vertex ids differ); else as given."""
    if provider == "anthropic":
        return model
    spec = catalogue().get(model)
    if spec is None:
        return model  # already the provider's id, or one the catalogue does not know
    translated = spec.on(provider)
    if translated is None:
        raise FatalError(
            NOT_ON_PROVIDER.format(model=model, provider=provider),
            NOT_ON_PROVIDER_FIX.format(provider=provider),
        )
    return translated


def build_model(
    spec: str | None,
    settings: Settings,
    env: Mapping[str, str],
    deadline: float,
    *,
    warn: Callable[[str], None] = _warn,
    retry_hint: str | None = None,
) -> Model:
    """`scripted:FILE` replays a scenario; otherwise Claude, checked before any spend.

    `retry_hint` says how to run again in the model's errors (default: the GitHub command)."""
    if spec and spec.startswith("scripted:"):
        from bot.agent.scenario_reader import load_scenario
        from bot.agent.scripted import ScriptedModel

        return ScriptedModel(load_scenario(spec.removeprefix("scripted:")))
    from bot.agent.client import RETRY_HINT, AnthropicModel, check_max_tokens, needs_streaming
    from bot.agent.model_check import check_model, check_output_limit
    from bot.agent.thinking import thinking_param

    key = settings.anthropic_api_key or env.get("ANTHROPIC_API_KEY", "")
    if settings.provider == "anthropic" and not key:
        raise FatalError(NO_MODEL, NO_MODEL_FIX)
    check_max_tokens(settings.max_tokens, streaming=needs_streaming(settings.max_tokens))
    model_id = provider_model_id(spec or settings.model, settings.provider)
    resolved = catalogue().resolve(model_id)
    exact = resolved.spec if resolved is not None and resolved.exact else None
    thinking = thinking_param(
        settings.thinking, settings.thinking_budget_tokens, settings.max_tokens, model_id, exact
    )
    model = AnthropicModel(
        model=model_id,
        provider=settings.provider,
        api_key=key,
        base_url=env.get("ANTHROPIC_BASE_URL") or None,
        deadline=deadline,
        env=env,
        thinking=thinking,
        retry_hint=retry_hint or RETRY_HINT,
    )
    facts = check_model(model, resolved, warn)
    check_output_limit(model_id, settings.max_tokens, facts)
    model.family = facts.family
    priced = settings.input_price_per_mtok > 0 and settings.output_price_per_mtok > 0
    if not priced:
        family_resolved = catalogue().resolve(model_id, facts.family)
        if family_resolved is None:
            raise FatalError(NO_PRICE.format(model=model_id), NO_PRICE_FIX)
        if family_resolved.warning:
            warn(family_resolved.warning)
    return model
