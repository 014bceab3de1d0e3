"""Before any spend: the model id checked with the Models API, priced, its limits and thinking checked."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.agent.catalogue import base_id, catalogue, family_of
from bot.agent.client import AnthropicModel
from bot.agent.factory import build_model, provider_model_id
from bot.agent.ledger import price_for
from bot.agent.providers import bedrock_api
from bot.agent.scenario_reader import parse_scenario
from bot.exceptions import FatalError, Submitted
from bot.sandbox.paths import Workspace
from bot.settings import Settings
from bot.settings_fields import KEYS
from tests.agent.helpers import SUBMIT, http_agent
from tests.fakes.anthropic_api import API_KEY, AnthropicEmulator
from tests.fakes.anthropic_models import MODELS, ModelCard

# A current model newer than Specship's catalogue: the API knows it, the catalogue does not.
OPUS_6 = ModelCard("claude-opus-6", "Claude Opus 6", "opus", 128_000, 1_000_000, thinking_default=True,
                   thinking_accepts=frozenset({"adaptive"}), created_at="2026-12-01T00:00:00Z")  # fmt: skip
# One whose id does not say its family: only the Models API's `line` does.
CODENAME = ModelCard(
    "claude-nightingale", "Claude Nightingale", "sonnet", 128_000, created_at="2026-12-02T00:00:00Z"
)


def build(emu: AnthropicEmulator, warnings: list[str], **settings: Any) -> Any:
    env = {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": emu.url}
    return build_model(None, Settings(**settings), env, deadline=1e12, warn=warnings.append)


@pytest.fixture
def workspace(git_repo: Callable[..., Path]) -> Workspace:
    return Workspace(git_repo({"a.py": "x = 1\n"}))


def test_the_default_model_is_current_and_in_the_catalogue() -> None:
    default = KEYS["model"].default
    assert default == catalogue().default
    spec = catalogue().get(default)
    assert spec is not None
    assert spec.status == "active"
    assert all(catalogue().get(m) is not None for m in catalogue().families.values())


def test_an_unknown_current_model_is_priced_by_its_family_end_to_end(
    workspace: Workspace, tmp_path: Path
) -> None:
    scenario = f"turns:\n  - tool_calls: [{json.dumps(SUBMIT)}]\n    usage: {{output_tokens: 1000}}\n"
    with AnthropicEmulator(
        parse_scenario(scenario, "opus6.yaml"), models={**MODELS, OPUS_6.id: OPUS_6}
    ) as emu:
        warnings: list[str] = []
        model = build(emu, warnings, model="claude-opus-6")
        agent = http_agent(model, workspace, tmp_path)
        with pytest.raises(Submitted):
            agent.run("implement")
        assert [r.kind for r in emu.requests] == ["models", "messages"]  # checked before the spend
    assert model.family == "opus"
    assert any("does not know the model 'claude-opus-6'" in w and "claude-opus-5-5" in w for w in warnings)
    (call,) = agent.ledger.calls
    assert call.cost_usd == pytest.approx(price_for("claude-opus-5-5").cost(call.usage))
    assert call.cost_usd > 0


def test_the_models_api_line_names_the_family_when_the_id_does_not() -> None:
    with AnthropicEmulator(models={**MODELS, CODENAME.id: CODENAME}) as emu:
        warnings: list[str] = []
        model = build(emu, warnings, model="claude-nightingale")
    assert family_of("claude-nightingale") is None
    assert model.family == "sonnet"
    assert price_for(model.name, family=model.family) == price_for("claude-sonnet-5-5")


@pytest.mark.parametrize(
    ("model", "message", "closest"),
    [
        ("claude-sonet-5-5", "does not exist for this API key", "claude-sonnet-5-5"),
        ("claude-sonnet-4-5", "is retired", "claude-sonnet-"),
    ],
)
def test_a_misspelt_or_retired_id_fails_before_any_spend(model: str, message: str, closest: str) -> None:
    with AnthropicEmulator() as emu:
        with pytest.raises(FatalError, match=message) as failure:
            build(emu, [], model=model)
        assert emu.message_requests == []
    assert closest in failure.value.fix


def test_a_deprecated_model_warns_with_its_retirement_date() -> None:
    with AnthropicEmulator() as emu:
        warnings: list[str] = []
        build(emu, warnings, model="claude-opus-4-5")
    assert any("deprecated" in w and "2027-01-22" in w for w in warnings)


def test_max_tokens_above_the_models_output_limit_fails_before_any_spend() -> None:
    with AnthropicEmulator() as emu:
        with pytest.raises(FatalError, match=r"more than claude-sonnet-4-6 can write.*\(64000\)"):
            build(emu, [], model="claude-sonnet-4-6", max_tokens=100_000)
        assert emu.message_requests == []


def test_a_thinking_mode_the_model_refuses_fails_before_any_request() -> None:
    with AnthropicEmulator() as emu:
        with pytest.raises(FatalError, match="cannot turn thinking off"):
            build(emu, [], model="claude-opus-5-5", thinking="off")
        assert emu.requests == []


def test_a_wrong_key_fails_at_the_model_check() -> None:
    with (
        AnthropicEmulator(api_key="sk-ant-other-key") as emu,
        pytest.raises(FatalError, match="refused") as failure,
    ):
        build(emu, [])
    assert API_KEY not in str(failure.value)


def test_the_model_check_needs_no_models_api_to_build_a_scripted_model(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("turns:\n  - {text: hi}\n", encoding="utf-8")
    model = build_model(f"scripted:{scenario}", Settings(), {}, deadline=1e12, warn=lambda m: None)
    assert model.name == f"scripted:{catalogue().default}"
    assert not isinstance(model, AnthropicModel)


@pytest.mark.parametrize(
    ("asked", "base"),
    [
        ("global.anthropic.claude-sonnet-4-6", "claude-sonnet-4-6"),
        ("us.anthropic.claude-opus-4-6-v1", "claude-opus-4-6"),
        ("eu.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5-20251001"),
        ("anthropic.claude-sonnet-5-5", "claude-sonnet-5-5"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5-20250929"),
    ],
)
def test_bedrock_profiles_and_vertex_ids_map_to_the_base_model(asked: str, base: str) -> None:
    assert base_id(asked) == base
    spec = catalogue().lookup(asked)
    assert spec is not None
    assert price_for(asked) == price_for(spec.id)


def test_the_default_is_translated_for_bedrock_and_vertex() -> None:
    default = catalogue().default
    assert provider_model_id(default, "anthropic") == default
    assert provider_model_id(default, "bedrock") == "anthropic.claude-sonnet-5-5"
    assert provider_model_id(default, "vertex") == "claude-sonnet-5-5"
    assert provider_model_id("claude-sonnet-4-5", "vertex") == "claude-sonnet-4-5@20250929"
    assert (
        provider_model_id("us.anthropic.claude-opus-4-6-v1", "bedrock") == "us.anthropic.claude-opus-4-6-v1"
    )
    assert bedrock_api("anthropic.claude-sonnet-5-5") == "mantle"
    assert bedrock_api("global.anthropic.claude-sonnet-4-6") == "invoke"
    assert bedrock_api("anthropic.claude-opus-4-6-v1") == "invoke"


def test_a_gateway_without_the_models_api_is_not_mistaken_for_an_unknown_model() -> None:
    """A 404 about the route, not the model: the id is not verified, and the run goes on."""
    with AnthropicEmulator() as emu:
        warnings: list[str] = []
        env = {"ANTHROPIC_API_KEY": API_KEY, "ANTHROPIC_BASE_URL": f"{emu.url}/gateway"}
        model = build_model(None, Settings(), env, deadline=1e12, warn=warnings.append)
    assert model.name == catalogue().default
    assert any("Could not check the model id" in w for w in warnings)
