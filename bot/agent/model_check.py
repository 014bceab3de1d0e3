"""Preflight of the model id before any spend: the Models API's word on it, else the catalogue's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.agent.catalogue import Resolved, catalogue
from bot.agent.client import AnthropicModel, describe_api_error
from bot.exceptions import FatalError

UNKNOWN_MODEL = "The model '{model}' does not exist for this API key (the Models API does not list it)."
UNKNOWN_MODEL_FIX = "Set model to a valid id{closest}. docs/configuration.md#models lists the supported ids."
RETIRED = "The model '{model}' is retired{when}: requests naming it fail."
RETIRED_FIX = "Set model to a current id{closest} (docs/configuration.md#models)."
DEPRECATED = "The model '{model}' is deprecated{when}; it still works but will be retired."
NOT_CHECKED = "Could not check the model id '{model}' with the Models API ({why}); the first call will tell."
NOT_LISTED = (
    "The model '{model}' is not in Specship's catalogue and {provider} has no Models API to ask: "
    "its id and limits are not verified before the first call."
)
TOO_MANY_TOKENS = "max-tokens {max_tokens} is more than {model} can write in one answer ({limit})."
TOO_MANY_TOKENS_FIX = "Set max-tokens to at most {limit}."


@dataclass(frozen=True)
class ModelFacts:
    """What preflight learnt: the family to price by and the output limit, where known."""

    family: str | None
    max_output: int | None


def _closest(model: AnthropicModel, asked: str) -> str:
    names: list[str] = []
    try:
        listed = model.available_models()
    except Exception:  # the listing is a courtesy: the refusal below stands without it
        listed = []
    if listed:
        import difflib

        names = difflib.get_close_matches(asked, listed, n=3, cutoff=0.4)
    names = names or catalogue().closest(asked)
    return f", e.g. {', '.join(names)}" if names else ""


def check_model(model: AnthropicModel, resolved: Resolved | None, warn: Callable[[str], None]) -> ModelFacts:
    """Ask the Models API about the id (free): unknown or retired ids stop the run here."""
    import anthropic

    exact = resolved.spec if resolved is not None and resolved.exact else None
    fallback = ModelFacts(resolved.spec.family if resolved else None, exact.max_output if exact else None)
    try:
        info = model.model_info()
    except anthropic.NotFoundError as exc:
        if f"model: {model.name}" not in describe_api_error(exc):
            # the API names the model it does not know; a gateway (ANTHROPIC_BASE_URL) without
            # the Models API answers 404 about its route instead
            warn(NOT_CHECKED.format(model=model.name, why=describe_api_error(exc)))
            return fallback
        raise FatalError(
            UNKNOWN_MODEL.format(model=model.name),
            UNKNOWN_MODEL_FIX.format(closest=_closest(model, model.name)),
        ) from None
    except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as exc:
        raise FatalError(
            f"The model API refused the key while checking the model: {describe_api_error(exc)}.",
            "Check the anthropic-api-key input (the secret may be missing, expired or revoked).",
        ) from None
    except anthropic.APIError as exc:  # unreachable or overloaded: the first call decides instead
        warn(NOT_CHECKED.format(model=model.name, why=describe_api_error(exc)))
        return fallback
    if info is None:
        if exact is None:
            warn(NOT_LISTED.format(model=model.name, provider=model.provider))
        return fallback
    lifecycle = info.get("lifecycle", "active")
    if lifecycle == "retired":
        when = f" (since {str(info.get('deprecated_at', ''))[:10]})" if info.get("deprecated_at") else ""
        raise FatalError(
            RETIRED.format(model=model.name, when=when),
            RETIRED_FIX.format(closest=_closest(model, model.name)),
        )
    if lifecycle == "deprecated":
        when = f", retiring {str(info['retires_at'])[:10]}" if info.get("retires_at") else ""
        warn(DEPRECATED.format(model=model.name, when=when))
    family = info.get("line") or fallback.family
    limit = info.get("max_tokens")
    return ModelFacts(family, int(limit) if isinstance(limit, int) else fallback.max_output)


def check_output_limit(model: str, max_tokens: int, facts: ModelFacts) -> None:
    if facts.max_output is not None and max_tokens > facts.max_output:
        raise FatalError(
            TOO_MANY_TOKENS.format(max_tokens=max_tokens, model=model, limit=facts.max_output),
            TOO_MANY_TOKENS_FIX.format(limit=facts.max_output),
        )
