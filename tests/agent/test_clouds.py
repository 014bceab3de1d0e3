"""Bedrock (InvokeModel and Mantle) and Vertex AI end to end: the SDK's clients against the emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import pytest

from bot.agent.factory import build_model
from bot.agent.ledger import price_for
from bot.agent.loop import Limits
from bot.agent.scenario_reader import parse_scenario
from bot.exceptions import FatalError, Submitted
from bot.sandbox.paths import Workspace
from bot.settings import Settings
from tests.agent.helpers import SUBMIT, http_agent
from tests.fakes import anthropic_clouds as clouds
from tests.fakes.anthropic_api import AnthropicEmulator

SESSION = f"""
turns:
  - text: "Looking first."
    tool_calls: [{{name: search, input: {{pattern: 'x ='}}}}]
  - expect: {{tool_results: ok, contains: ["a.py:1"]}}
    tool_calls: [{json.dumps(SUBMIT)}]
"""


@pytest.fixture
def workspace(git_repo: Callable[..., Path]) -> Workspace:
    return Workspace(git_repo({"a.py": "x = 1\n"}))


@pytest.fixture
def emu() -> Any:
    with AnthropicEmulator(parse_scenario(SESSION, "cloud.yaml")) as emulator:
        yield emulator


def aws_env(emu: AnthropicEmulator, **extra: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": clouds.AWS_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": clouds.AWS_SECRET_KEY,
        "AWS_REGION": "us-east-1",
        "ANTHROPIC_BEDROCK_BASE_URL": emu.url,
        "ANTHROPIC_BEDROCK_MANTLE_BASE_URL": f"{emu.url}/anthropic",
        **extra,
    }


def run(model: Any, workspace: Workspace, tmp_path: Path, max_tokens: int = 16_000) -> Any:
    agent = http_agent(model, workspace, tmp_path, Limits(max_tokens=max_tokens))
    with pytest.raises(Submitted):
        agent.run("implement")
    return agent


@pytest.mark.parametrize("max_tokens", [16_000, 32_000], ids=["invoke", "event-stream"])
def test_bedrock_invoke_model_with_a_cross_region_profile(
    emu: AnthropicEmulator, workspace: Workspace, tmp_path: Path, max_tokens: int
) -> None:
    settings = Settings(provider="bedrock", model="global.anthropic.claude-sonnet-4-6", max_tokens=max_tokens)
    warnings: list[str] = []
    model = build_model(None, settings, aws_env(emu), deadline=1e12, warn=warnings.append)
    agent = run(model, workspace, tmp_path, max_tokens)
    assert warnings == []
    assert emu.expectation_failures == []
    requests = emu.message_requests
    op = "invoke" if max_tokens == 16_000 else "invoke-with-response-stream"
    assert [r.path for r in requests] == [f"/model/global.anthropic.claude-sonnet-4-6/{op}"] * 2
    assert all(r.flavor == "bedrock" and r.status == 200 and r.model == "claude-sonnet-4-6" for r in requests)
    assert all(
        r.body["anthropic_version"] == clouds.BEDROCK_VERSION and "model" not in r.body for r in requests
    )
    assert all(r.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIA") for r in requests)
    assert agent.ledger.price == price_for("claude-sonnet-4-6")


def test_bedrock_default_model_goes_through_the_messages_api_endpoint(
    emu: AnthropicEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    """The default (a Claude API id) is translated to its Bedrock id; current models use Mantle."""
    model = build_model(None, Settings(provider="bedrock"), aws_env(emu), deadline=1e12, warn=lambda m: None)
    assert model.name == "anthropic.claude-sonnet-5-5"
    run(model, workspace, tmp_path)
    requests = emu.message_requests
    assert [r.path for r in requests] == ["/anthropic/v1/messages"] * 2
    assert all(r.flavor == "mantle" and r.status == 200 for r in requests)
    assert "Credential=AKIAEMULATOR00000000/" in requests[0].headers["authorization"]
    assert "/bedrock-mantle/aws4_request" in requests[0].headers["authorization"]


def test_bedrock_refuses_a_wrong_secret_and_a_plain_api_id(emu: AnthropicEmulator, tmp_path: Path) -> None:
    wrong = aws_env(emu, AWS_SECRET_ACCESS_KEY="not-the-secret")
    model = build_model(None, Settings(provider="bedrock", model="global.anthropic.claude-sonnet-4-6"),
                        wrong, deadline=1e12, warn=lambda m: None)  # fmt: skip
    with pytest.raises(FatalError, match="signature we calculated does not match"):
        model.complete("s", [], [{"role": "user", "content": "hi"}], 100)
    # The old default went to InvokeModel as a Claude API id, which Bedrock does not know
    client = emu.bedrock_client(max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="The provided model identifier is invalid"):
        client.messages.create(
            model="claude-sonnet-4-6", max_tokens=100, messages=[{"role": "user", "content": "hi"}],
            extra_body={"anthropic_version": clouds.BEDROCK_VERSION},
        )  # fmt: skip
    # and InvokeModel refuses the SDK's own default API version, as Anthropic's Bedrock page warns
    with pytest.raises(anthropic.BadRequestError, match="anthropic_version"):
        client.messages.create(
            model="global.anthropic.claude-sonnet-4-6",
            max_tokens=100,
            messages=[{"role": "user", "content": "hi"}],
        )
    unknown = build_model(None, Settings(provider="bedrock", model="us.anthropic.claude-sonnet-9-v1:0"),
                          aws_env(emu), deadline=1e12, warn=lambda m: None)  # fmt: skip
    with pytest.raises(FatalError, match="The provided model identifier is invalid"):
        unknown.complete("s", [], [{"role": "user", "content": "hi"}], 100)


def vertex_env(emu: AnthropicEmulator, tmp_path: Path) -> dict[str, str]:
    """The credentials file google-github-actions/auth writes for workload identity federation."""
    subject = tmp_path / "oidc-token"
    subject.write_text(clouds.GOOGLE_SUBJECT_TOKEN, encoding="utf-8")
    credentials = tmp_path / "gha-creds.json"
    credentials.write_text(
        json.dumps(
            {
                "type": "external_account",
                "audience": clouds.GOOGLE_AUDIENCE,
                "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
                "token_url": f"{emu.url}/token",
                "credential_source": {"file": str(subject)},
            }
        ),
        encoding="utf-8",
    )
    return {
        "CLOUD_ML_REGION": "us-east5",
        "ANTHROPIC_VERTEX_PROJECT_ID": "specship-test",
        "ANTHROPIC_VERTEX_BASE_URL": emu.url,
        "GOOGLE_APPLICATION_CREDENTIALS": str(credentials),
    }


@pytest.mark.parametrize("max_tokens", [16_000, 32_000], ids=["rawPredict", "streamRawPredict"])
def test_vertex_with_google_credentials(
    emu: AnthropicEmulator, workspace: Workspace, tmp_path: Path, max_tokens: int
) -> None:
    settings = Settings(provider="vertex", max_tokens=max_tokens)
    model = build_model(None, settings, vertex_env(emu, tmp_path), deadline=1e12, warn=lambda m: None)
    run(model, workspace, tmp_path, max_tokens)
    op = "rawPredict" if max_tokens == 16_000 else "streamRawPredict"
    path = f"/projects/specship-test/locations/us-east5/publishers/anthropic/models/claude-sonnet-5-5:{op}"
    requests = emu.message_requests
    assert [r.path for r in requests] == [path, path]
    assert all(r.status == 200 and r.body["anthropic_version"] == clouds.VERTEX_VERSION for r in requests)
    assert all(r.headers["authorization"] == f"Bearer {clouds.GOOGLE_ACCESS_TOKEN}" for r in requests)
    assert [r.kind for r in emu.requests].count("token") == 1  # one refresh, then the cached token


def test_vertex_answers_an_unknown_model_with_googles_404(emu: AnthropicEmulator, tmp_path: Path) -> None:
    settings = Settings(provider="vertex", model="claude-sonnet-9@20991231")
    warnings: list[str] = []
    model = build_model(None, settings, vertex_env(emu, tmp_path), deadline=1e12, warn=warnings.append)
    assert any("not verified before the first call" in w for w in warnings)
    with pytest.raises(FatalError, match=r"Publisher Model .* not found"):
        model.complete("s", [], [{"role": "user", "content": "hi"}], 100)


def test_cloud_providers_without_configuration_say_what_to_set() -> None:
    with pytest.raises(FatalError, match="CLOUD_ML_REGION"):
        build_model(None, Settings(provider="vertex"), {}, deadline=1e12, warn=lambda m: None)
