"""The only `anthropic` user: the client (API, gateway, Bedrock, Vertex), cache breakpoints, retries."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.agent.ledger import Usage
from bot.agent.model import ModelResponse
from bot.exceptions import FatalError

# The SDK refuses non-streaming calls that could take over 10 minutes: 128k tokens take ~1 h.
NONSTREAMING_MAX_TOKENS = 21_333


RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


MAX_ATTEMPTS = 3  # one try and two retries, like the SDK default


def with_cache_breakpoints(
    system: str, tools: list[dict[str, Any]], messages: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Breakpoints on the system prompt, the last tool and the newest user turn (copies, 3 of 4).

    Nothing per-run sits in the system prompt or tools, so their cache entry is shared by every run.
    """
    ephemeral = {"type": "ephemeral"}
    system_blocks = [{"type": "text", "text": system, "cache_control": ephemeral}]
    tools = copy.deepcopy(tools)
    if tools:
        tools[-1]["cache_control"] = ephemeral
    messages = copy.deepcopy(messages)
    for message in reversed(messages):
        if message["role"] != "user":
            continue
        content = message["content"]
        if isinstance(content, str):
            message["content"] = [{"type": "text", "text": content, "cache_control": ephemeral}]
        elif content:
            content[-1]["cache_control"] = ephemeral
        break
    return system_blocks, tools, messages


def needs_streaming(max_tokens: int) -> bool:
    """The SDK rejects non-streaming requests whose max_tokens could run past 10 minutes."""
    return max_tokens > NONSTREAMING_MAX_TOKENS


def check_max_tokens(max_tokens: int, streaming: bool) -> None:
    """Catch at start what the SDK would raise mid-run as a ValueError."""
    if not streaming and needs_streaming(max_tokens):
        raise FatalError(
            f"max-tokens {max_tokens} needs a streaming request, but streaming is off.",
            f"Use streaming or set max-tokens ≤ {NONSTREAMING_MAX_TOKENS}.",
        )


def describe_api_error(exc: BaseException) -> str:
    """An API error as 'status type: message (request-id …)', never the request or the key."""
    status = getattr(exc, "status_code", None)
    kind = getattr(exc, "type", None) or type(exc).__name__
    body = getattr(exc, "body", None)
    message = ""
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            message = str(error.get("message", ""))[:300]
    request_id = getattr(exc, "request_id", None) or "none"
    prefix = f"{status} " if status else ""
    return f"{prefix}{kind}: {message or type(exc).__name__} (request-id {request_id})"


_FIXES = {
    401: "Check the anthropic-api-key input (the secret may be missing, expired or revoked).",
    403: "The key lacks access to this model or workspace; check the model setting and the key.",
    400: "The request was rejected; check the model and max-tokens settings. This may be a bug.",
    404: "Check the model setting: this model id does not exist for your provider.",
    429: "You are rate limited: lower the run's frequency or raise your Anthropic rate limits.",
    529: "Anthropic is overloaded: re-run later ({retry}).",
}


# How to run again where the error is seen: a GitHub comment by default; local mode passes its own
# command, because '/specship retry' means nothing on a terminal.
RETRY_HINT = "comment '/specship retry'"


_PROVIDER_FIXES = {
    "bedrock": "Configure AWS credentials and AWS_REGION (e.g. aws-actions/configure-aws-credentials).",
    "vertex": "Set CLOUD_ML_REGION and ANTHROPIC_VERTEX_PROJECT_ID (see google-github-actions/auth).",
}


_STREAM_ERROR_STATUS = {"overloaded_error": 529, "api_error": 500, "rate_limit_error": 429}


class AnthropicModel:
    """Claude through the anthropic SDK, with our own retry policy and a deadline."""

    def __init__(
        self,
        *,
        model: str,
        provider: str = "anthropic",
        api_key: str = "",
        base_url: str | None = None,
        timeout_s: float = 600.0,
        deadline: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        client: Any = None,
        retry_hint: str = RETRY_HINT,
    ) -> None:
        self.name = model
        self.retry_hint = retry_hint
        self._sleep = sleep
        self._clock = clock
        self.deadline = deadline
        self._client = client if client is not None else _make_client(provider, api_key, base_url, timeout_s)

    def complete(
        self,
        system: str,
        tools: list[dict[str, Any]],
        messages: list[dict[str, Any]],
        max_tokens: int,
    ) -> ModelResponse:
        """One assistant turn; retried from the same message list on transient failures."""
        import anthropic
        import httpx2

        system_blocks, tools, messages = with_cache_breakpoints(system, tools, messages)
        request = {
            "model": self.name,
            "max_tokens": max_tokens,
            "system": system_blocks,
            "tools": tools,
            "messages": messages,
        }
        for attempt in range(1, MAX_ATTEMPTS + 1):
            started = self._clock()
            try:
                if needs_streaming(max_tokens):
                    with self._client.messages.stream(**request) as stream:
                        message = stream.get_final_message()
                else:
                    message = self._client.messages.create(**request)
                return _to_response(message, self._clock() - started)
            except anthropic.APIStatusError as exc:
                status = exc.status_code
                if status == 200:  # an SSE `error` event after the stream began
                    status = _STREAM_ERROR_STATUS.get(str(getattr(exc, "type", "")), 500)
                if status not in RETRYABLE_STATUS or attempt == MAX_ATTEMPTS:
                    raise self._fatal(exc, status) from None
                self._wait(_retry_after(exc) or _backoff(attempt), exc)
            except (anthropic.APIConnectionError, httpx2.TransportError) as exc:
                # Covers timeouts and streams cut mid-answer: nothing of the partial answer is used.
                if attempt == MAX_ATTEMPTS:
                    raise FatalError(
                        f"Could not reach the model API after {attempt} attempts ({type(exc).__name__}).",
                        f"Check ANTHROPIC_BASE_URL / network egress and re-run ({self.retry_hint}).",
                    ) from None
                self._wait(_backoff(attempt), exc)
        raise AssertionError("unreachable")

    def _wait(self, seconds: float, exc: BaseException) -> None:
        if self.deadline is not None and self._clock() + seconds > self.deadline:
            raise FatalError(
                f"The model API asked to wait {seconds:.0f} s ({describe_api_error(exc)}), "
                "longer than the run has left.",
                f"Re-run later ({self.retry_hint}) or raise timeout-minutes.",
            )
        self._sleep(seconds)

    def _fatal(self, exc: BaseException, status: int) -> FatalError:
        what = describe_api_error(exc)
        if status == 529:
            return FatalError(f"Anthropic overloaded: {what}.", _FIXES[529].format(retry=self.retry_hint))
        return FatalError(f"The model API refused the request: {what}.", _FIXES.get(status, _FIXES[400]))


def _retry_after(exc: Any) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _backoff(attempt: int) -> float:
    return float(min(0.5 * 2 ** (attempt - 1), 8.0))


def _to_response(message: Any, seconds: float) -> ModelResponse:
    data = message.model_dump(mode="json", exclude_none=True)
    usage = data.get("usage") or {}
    content = [
        {
            k: v
            for k, v in block.items()
            if k in ("type", "text", "id", "name", "input", "thinking", "signature", "data")
        }
        for block in data.get("content", [])
    ]
    return ModelResponse(
        content=content,
        stop_reason=str(data.get("stop_reason") or "end_turn"),
        usage=Usage(
            int(usage.get("input_tokens") or 0),
            int(usage.get("output_tokens") or 0),
            int(usage.get("cache_creation_input_tokens") or 0),
            int(usage.get("cache_read_input_tokens") or 0),
        ),
        request_id=str(getattr(message, "_request_id", "") or ""),
    )


def _make_client(provider: str, api_key: str, base_url: str | None, timeout_s: float) -> Any:
    """Build the SDK client with its own retries off: Specship's policy above owns retrying."""
    import anthropic

    if provider in ("bedrock", "vertex"):
        try:
            if provider == "bedrock":
                return anthropic.AnthropicBedrock(max_retries=0, timeout=timeout_s)
            return anthropic.AnthropicVertex(max_retries=0, timeout=timeout_s)
        except (ValueError, ImportError, anthropic.AnthropicError) as exc:
            raise FatalError(
                f"Could not set up the {provider} client: {exc}",
                _PROVIDER_FIXES[provider],
            ) from None
    if not api_key:
        raise FatalError(
            "No Anthropic API key: ANTHROPIC_API_KEY / the anthropic-api-key input is empty. "
            "In fork or Dependabot runs GitHub withholds secrets (secrets unavailable).",
            "Pass anthropic-api-key: ${{ secrets.ANTHROPIC_API_KEY }} in the workflow, "
            "or set provider to bedrock or vertex.",
        )
    return anthropic.Anthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout_s)
