"""The model a run talks to: a scripted scenario (`scripted:FILE`) or Claude via the configured provider."""

from __future__ import annotations

from collections.abc import Mapping

from bot.agent.model import Model
from bot.exceptions import FatalError
from bot.settings import Settings

NO_MODEL = "No model: ANTHROPIC_API_KEY is not set and no scripted scenario was named."
NO_MODEL_FIX = (
    "Export ANTHROPIC_API_KEY, or pass --model scripted:examples/taskboard/scenarios/002-task-due-dates.yaml "
    "to replay the bundled session offline."
)


def build_model(
    spec: str | None,
    settings: Settings,
    env: Mapping[str, str],
    deadline: float,
    retry_hint: str | None = None,
) -> Model:
    """`scripted:FILE` replays a scenario; otherwise Claude (API key from the input or the env).

    `retry_hint` says how to run again in the model's errors (default: the GitHub command)."""
    if spec and spec.startswith("scripted:"):
        from bot.agent.scenario_reader import load_scenario
        from bot.agent.scripted import ScriptedModel

        return ScriptedModel(load_scenario(spec.removeprefix("scripted:")))
    from bot.agent.client import RETRY_HINT, AnthropicModel, check_max_tokens, needs_streaming

    key = settings.anthropic_api_key or env.get("ANTHROPIC_API_KEY", "")
    if settings.provider == "anthropic" and not key:
        raise FatalError(NO_MODEL, NO_MODEL_FIX)
    check_max_tokens(settings.max_tokens, streaming=needs_streaming(settings.max_tokens))
    return AnthropicModel(
        model=spec or settings.model,
        provider=settings.provider,
        api_key=key,
        base_url=env.get("ANTHROPIC_BASE_URL") or None,
        deadline=deadline,
        retry_hint=retry_hint or RETRY_HINT,
    )
