"""The SDK client for a provider: the Claude API, Amazon Bedrock (InvokeModel or Mantle) or Vertex AI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.agent.catalogue import BEDROCK_PROFILE, BEDROCK_VERSION, catalogue
from bot.exceptions import FatalError

# The SDK sends its own API version (2026-10-21) in the body on Bedrock and Vertex unless one is given;
# InvokeModel's ARN-versioned models and Vertex's rawPredict answer 400 to it (Anthropic's Bedrock
# and Vertex pages), so Specship sends the versions those endpoints document.
BEDROCK_INVOKE_VERSION = "bedrock-2023-05-31"
VERTEX_VERSION = "vertex-2023-10-16"

NO_KEY = (
    "No Anthropic API key: ANTHROPIC_API_KEY / the anthropic-api-key input is empty. "
    "In fork or Dependabot runs GitHub withholds secrets (secrets unavailable)."
)
NO_KEY_FIX = (
    "Pass anthropic-api-key: ${{ secrets.ANTHROPIC_API_KEY }} in the workflow, "
    "or set provider to bedrock or vertex."
)
PROVIDER_FIXES = {
    "bedrock": "Configure AWS credentials and AWS_REGION (e.g. aws-actions/configure-aws-credentials).",
    "vertex": "Set CLOUD_ML_REGION and ANTHROPIC_VERTEX_PROJECT_ID (see google-github-actions/auth).",
}


@dataclass(frozen=True)
class Endpoint:
    """How requests for one model go out: the SDK client and what the body must carry."""

    client: Any
    extra_body: Mapping[str, Any]
    has_models_api: bool
    # errors the cloud's own auth library raises mid-request (a token refresh, a credential chain)
    auth_errors: tuple[type[BaseException], ...] = ()


def bedrock_api(model_id: str) -> str:
    """`invoke` for InvokeModel ids (profiles, `-v1:0`, Opus 4.6 and earlier), else `mantle`."""
    spec = catalogue().lookup(model_id)
    if spec is not None and model_id == spec.bedrock:
        return spec.bedrock_api
    if BEDROCK_PROFILE.match(model_id) or BEDROCK_VERSION.search(model_id):
        return "invoke"  # cross-region inference profiles and ARN-versioned ids exist on InvokeModel only
    return spec.bedrock_api if spec is not None else "mantle"


def endpoint(
    provider: str,
    model_id: str,
    *,
    api_key: str = "",
    base_url: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 600.0,
) -> Endpoint:
    """Build the client with the SDK's own retries off: Specship's policy owns retrying."""
    import anthropic

    env = env or {}
    try:
        if provider == "bedrock":
            return _bedrock(model_id, env, timeout_s)
        if provider == "vertex":
            return _vertex(env, timeout_s)
    except (ValueError, ImportError, RuntimeError, anthropic.AnthropicError) as exc:
        raise FatalError(f"Could not set up the {provider} client: {exc}", PROVIDER_FIXES[provider]) from None
    if not api_key:
        raise FatalError(NO_KEY, NO_KEY_FIX)
    client = anthropic.Anthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s)
    return Endpoint(client, {}, has_models_api=True)


def _aws(env: Mapping[str, str]) -> dict[str, Any]:
    """Region and explicit credentials from the environment; boto3's own chain when none are given."""
    options: dict[str, Any] = {}
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        options["aws_region"] = region
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        options["aws_access_key"] = env["AWS_ACCESS_KEY_ID"]
        options["aws_secret_key"] = env["AWS_SECRET_ACCESS_KEY"]
        if env.get("AWS_SESSION_TOKEN"):
            options["aws_session_token"] = env["AWS_SESSION_TOKEN"]
    elif env.get("AWS_BEARER_TOKEN_BEDROCK"):
        options["api_key"] = env["AWS_BEARER_TOKEN_BEDROCK"]
    return options


def _bedrock(model_id: str, env: Mapping[str, str], timeout_s: float) -> Endpoint:
    import anthropic
    from anthropic.lib.bedrock import AnthropicBedrockMantle

    options = _aws(env)
    if bedrock_api(model_id) == "invoke":
        client = anthropic.AnthropicBedrock(
            base_url=env.get("ANTHROPIC_BEDROCK_BASE_URL") or None,
            max_retries=0,
            timeout=timeout_s,
            **options,
        )
        return Endpoint(client, {"anthropic_version": BEDROCK_INVOKE_VERSION}, False, _boto_errors())
    mantle = AnthropicBedrockMantle(
        base_url=env.get("ANTHROPIC_BEDROCK_MANTLE_BASE_URL") or None,
        max_retries=0,
        timeout=timeout_s,
        **options,
    )
    return Endpoint(mantle, {}, False, _boto_errors())


def _boto_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped]

    # the SDK raises RuntimeError when the credential chain resolves to nothing
    return (BotoCoreError, RuntimeError)


def _vertex(env: Mapping[str, str], timeout_s: float) -> Endpoint:
    import anthropic

    region = env.get("CLOUD_ML_REGION", "")
    project = env.get("ANTHROPIC_VERTEX_PROJECT_ID") or env.get("GOOGLE_CLOUD_PROJECT") or ""
    if not region or not project:
        raise ValueError("CLOUD_ML_REGION and ANTHROPIC_VERTEX_PROJECT_ID must both be set")
    import google.auth
    from google.auth.exceptions import GoogleAuthError

    scopes = ["https://www.googleapis.com/auth/cloud-platform"]
    path = env.get("GOOGLE_APPLICATION_CREDENTIALS")
    try:
        # The file the auth action wrote, read from this run's environment; else the default chain.
        if path:
            credentials = _google_credentials(path, scopes)
        else:
            credentials, _ = google.auth.default(scopes=scopes)
    except (GoogleAuthError, OSError, ValueError) as exc:
        raise ValueError(f"no Google credentials ({exc})") from None
    client = anthropic.AnthropicVertex(
        region=region,
        project_id=project,
        credentials=credentials,
        base_url=env.get("ANTHROPIC_VERTEX_BASE_URL") or None,
        max_retries=0,
        timeout=timeout_s,
    )
    return Endpoint(client, {"anthropic_version": VERTEX_VERSION}, False, (GoogleAuthError,))


def _google_credentials(path: str, scopes: list[str]) -> Any:
    """Credentials from a key file by its type, as google-auth advises for files from elsewhere.

    The type's own loader also skips the generic loader's project lookup (a network call to
    Cloud Resource Manager): the project is ANTHROPIC_VERTEX_PROJECT_ID.
    """
    import json

    with open(path, encoding="utf-8") as handle:
        info = json.load(handle)
    kind = info.get("type")
    loader: Any
    if kind == "service_account":
        from google.oauth2 import service_account

        loader = service_account.Credentials.from_service_account_info
    elif kind == "authorized_user":
        from google.oauth2 import credentials

        loader = credentials.Credentials.from_authorized_user_info
    elif kind == "external_account" and "aws" in str(info.get("subject_token_type", "")):
        from google.auth import aws

        loader = aws.Credentials.from_info
    elif kind == "external_account" and "executable" in (info.get("credential_source") or {}):
        from google.auth import pluggable

        loader = pluggable.Credentials.from_info
    elif kind == "external_account":
        from google.auth import identity_pool

        loader = identity_pool.Credentials.from_info
    else:
        raise ValueError(f"{path}: unsupported credentials type {kind!r}")
    return loader(info, scopes=scopes)
