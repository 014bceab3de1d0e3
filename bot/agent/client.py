"""The only `anthropic` user: calls to Claude (API, Bedrock, Vertex), cache breakpoints, retries, billing."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.agent.ledger import Usage
from bot.agent.model import CallFailed, ModelResponse
from bot.agent.providers import Endpoint, endpoint
from bot.exceptions import FatalError

# The SDK refuses non-streaming calls that could take over 10 minutes: 128k tokens take ~1 h.
NONSTREAMING_MAX_TOKENS = 21_333


RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


MAX_ATTEMPTS = 3  # one try and two retries, like the SDK default


# Content block fields a later request may send back; thinking blocks keep their signature.
BLOCK_FIELDS = ("type", "text", "id", "name", "input", "thinking", "signature", "data")


def with_cache_breakpoints(
    system: str, tools: list[dict[str, Any]], messages: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Breakpoints on the system prompt, the previous user turn and the newest one (copies, 3 of 4).

    The API looks for a cached prefix at most 20 blocks back from each breakpoint. A turn with
    many parallel tool calls (one tool_use and one tool_result block each) puts the previous
    turn's breakpoint further back than that, so the newest turn's mark alone would find nothing
    and the whole conversation would be written again. The previous user turn's mark sits exactly
    where the last request wrote its entry: it always reads. Tools come before the system prompt
    in the cached prefix, so the system prompt's mark covers them (a mark on the last tool would
    add nothing). Nothing per-run sits in the system prompt or tools: their entry is shared by
    every run, once the prefix reaches the model's cache minimum (docs/benchmarks.md).
    """
    ephemeral = {"type": "ephemeral"}
    system_blocks = [{"type": "text", "text": system, "cache_control": ephemeral}]
    # Only the two marked turns are copied (their last block gets the mark): copying the whole
    # conversation on every request would grow with the square of the run's length.
    sent = list(messages)
    marked = 0
    for index in range(len(sent) - 1, -1, -1):
        message = sent[index]
        if message["role"] != "user":
            continue
        content = message["content"]
        if isinstance(content, str):
            blocks = [{"type": "text", "text": content, "cache_control": ephemeral}]
        elif content:
            blocks = [*content[:-1], {**content[-1], "cache_control": ephemeral}]
        else:
            continue
        sent[index] = {**message, "content": blocks}
        marked += 1
        if marked == 2:
            break
    return system_blocks, list(tools), sent


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
        elif isinstance(body.get("message"), str):  # Bedrock's and Google's error bodies
            message = str(body["message"])[:300]
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


_STREAM_ERROR_STATUS = {"overloaded_error": 529, "api_error": 500, "rate_limit_error": 429}


class AnthropicModel:
    """Claude through the anthropic SDK, with our own retry policy, a deadline and billed failures."""

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
        env: Mapping[str, str] | None = None,
        thinking: Mapping[str, Any] | None = None,
        family: str | None = None,
        retry_hint: str = RETRY_HINT,
    ) -> None:
        self.name = model
        self.provider = provider
        self.family = family
        self.retry_hint = retry_hint
        self.thinking = dict(thinking) if thinking else None
        self._sleep = sleep
        self._clock = clock
        self.deadline = deadline
        self.endpoint = (
            Endpoint(client, {}, has_models_api=True)
            if client is not None
            else endpoint(provider, model, api_key=api_key, base_url=base_url, env=env, timeout_s=timeout_s)
        )

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
        request: dict[str, Any] = {
            "model": self.name,
            "max_tokens": max_tokens,
            "system": system_blocks,
            "tools": tools,
            "messages": messages,
        }
        if self.thinking:
            request["thinking"] = self.thinking
        if self.endpoint.extra_body:
            request["extra_body"] = dict(self.endpoint.extra_body)
        billed: list[Usage] = []
        for attempt in range(1, MAX_ATTEMPTS + 1):
            started = self._clock()
            try:
                message = self._send(request, max_tokens, billed)
                return _to_response(message, self._clock() - started, tuple(billed))
            except anthropic.APIStatusError as exc:
                status = exc.status_code
                if status == 200:  # an SSE `error` event after the stream began
                    status = _STREAM_ERROR_STATUS.get(str(getattr(exc, "type", "")), 500)
                if status not in RETRYABLE_STATUS or attempt == MAX_ATTEMPTS:
                    raise self._fatal(exc, status, billed) from None
                self._wait(_retry_after(exc) or _backoff(attempt), exc, billed)
            except (anthropic.APIConnectionError, httpx2.TransportError) as exc:
                # Covers timeouts and streams cut mid-answer: nothing of the partial answer is used.
                if attempt == MAX_ATTEMPTS:
                    raise CallFailed(
                        f"Could not reach the model API after {attempt} attempts ({type(exc).__name__}).",
                        f"Check ANTHROPIC_BASE_URL / network egress and re-run ({self.retry_hint}).",
                        tuple(billed),
                    ) from None
                self._wait(_backoff(attempt), exc, billed)
            except self.endpoint.auth_errors as exc:
                raise CallFailed(
                    f"Could not authenticate to {self.provider}: {str(exc)[:300]}",
                    "Check the cloud credentials the workflow passes (docs/configuration.md#providers).",
                    tuple(billed),
                ) from None
        raise AssertionError("unreachable")

    def _send(self, request: dict[str, Any], max_tokens: int, billed: list[Usage]) -> Any:
        """One HTTP attempt; a stream that breaks after message_start was billed, so it is noted."""
        client = self.endpoint.client
        if not needs_streaming(max_tokens):
            return client.messages.create(**request)
        with client.messages.stream(**request) as stream:
            try:
                return stream.get_final_message()
            except BaseException:
                usage = _partial_usage(stream)
                if usage is not None:
                    billed.append(usage)
                raise

    def model_info(self) -> dict[str, Any] | None:
        """The Models API's record of this model, or None where the provider has no Models API.

        Raises anthropic.NotFoundError for an id the API does not know (retired or misspelt).
        """
        if not self.endpoint.has_models_api:
            return None
        info = self.endpoint.client.models.retrieve(self.name)
        return dict(info.model_dump(mode="json", exclude_none=True))

    def available_models(self) -> list[str]:
        """Every model id the key can still use (the Models API, all pages; retired ones left out)."""
        if not self.endpoint.has_models_api:
            return []
        listed = self.endpoint.client.models.list(limit=1000)
        return [str(m.id) for m in listed if getattr(m, "lifecycle", "active") != "retired"]

    def _wait(self, seconds: float, exc: BaseException, billed: list[Usage]) -> None:
        if self.deadline is not None and self._clock() + seconds > self.deadline:
            raise CallFailed(
                f"The model API asked to wait {seconds:.0f} s ({describe_api_error(exc)}), "
                "longer than the run has left.",
                f"Re-run later ({self.retry_hint}) or raise timeout-minutes.",
                tuple(billed),
            )
        self._sleep(seconds)

    def _fatal(self, exc: BaseException, status: int, billed: list[Usage]) -> CallFailed:
        what = describe_api_error(exc)
        if status == 529:
            fix = _FIXES[529].format(retry=self.retry_hint)
            return CallFailed(f"Anthropic overloaded: {what}.", fix, tuple(billed))
        return CallFailed(
            f"The model API refused the request: {what}.", _FIXES.get(status, _FIXES[400]), tuple(billed)
        )


def _partial_usage(stream: Any) -> Usage | None:
    """What a broken stream was billed for: message_start's input usage, output as far as it got."""
    try:
        snapshot = stream.current_message_snapshot
    except AssertionError:  # nothing arrived: the request was not billed
        return None
    data = snapshot.model_dump(mode="json", exclude_none=True)
    usage = data.get("usage") or {}
    produced = json.dumps(data.get("content") or [])
    output = max(int(usage.get("output_tokens") or 0), math.ceil(len(produced) / 4))
    return Usage(
        int(usage.get("input_tokens") or 0),
        output,
        int(usage.get("cache_creation_input_tokens") or 0),
        int(usage.get("cache_read_input_tokens") or 0),
    )


def _retry_after(exc: Any) -> float | None:
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _backoff(attempt: int) -> float:
    return float(min(0.5 * 2 ** (attempt - 1), 8.0))


def _to_response(message: Any, seconds: float, billed: tuple[Usage, ...]) -> ModelResponse:
    data = message.model_dump(mode="json", exclude_none=True)
    usage = data.get("usage") or {}
    content = [{k: v for k, v in block.items() if k in BLOCK_FIELDS} for block in data.get("content", [])]
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
        failed_attempts=billed,
    )
