"""A local Anthropic Messages API emulator: validates requests, plays scenarios, injects faults."""

from __future__ import annotations

import hashlib
import json
import select
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any

from bot.agent.scenario import Fault, Scenario, Turn
from bot.agent.scenario_play import check_expect, estimate_tokens, id_factory, to_content_blocks
from tests.fakes import anthropic_clouds as clouds
from tests.fakes.anthropic_models import MODELS, ModelCard, find, find_bedrock, find_mantle, find_vertex
from tests.fakes.anthropic_models import model_list as list_models
from tests.fakes.anthropic_rules import ErrorReply, validate_request
from tests.fakes.anthropic_thinking import Mode, ThinkingBook

if TYPE_CHECKING:
    import anthropic

API_KEY = "sk-ant-api03-emulator-0000000000000000000000000000000000000000-TESTAA"
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
ERROR_MESSAGES = {
    "invalid_request_error": "Injected fault: invalid request.",
    "authentication_error": "invalid x-api-key",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "Not found.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit.",
    "api_error": "Internal server error",
    "overloaded_error": "Overloaded",
}
# Tokens the API adds for tool use (Claude 4 family, tool_choice auto) and per built-in tool.
TOOL_USE_SYSTEM_TOKENS = 346
BUILTIN_TOOL_TOKENS = {"text_editor": 700, "bash": 245}
CACHE_LOOKBACK = 20


@dataclass
class RecordedRequest:
    """One HTTP request and what the emulator answered (status 0: dropped before a response)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    request_id: str = ""
    turn: int | None = None
    fault: Fault | None = None
    error: str | None = None
    kind: str = ""  # messages | count_tokens | models | token | other
    flavor: str = "anthropic"  # anthropic | bedrock | mantle | vertex
    model: str = ""  # the API model the request reached


@dataclass
class _Pending:
    fault: Fault
    left: int


@dataclass
class _Segment:
    tokens: int
    digest: str
    breakpoint: bool = False


@dataclass
class _Reply:
    """Writes one response on the handler's socket: JSON, chunked SSE, or nothing (a drop)."""

    handler: BaseHTTPRequestHandler
    request_id: str
    record: RecordedRequest
    headers: dict[str, str] = field(default_factory=dict)
    route: clouds.Route = field(default_factory=lambda: clouds.Route("anthropic"))

    def head(self, status: int, content_type: str, length: int | None) -> None:
        self.record.status = status
        h = self.handler
        h.send_response(status)
        h.send_header("content-type", content_type)
        h.send_header("request-id", self.request_id)
        h.send_header("anthropic-organization-id", "00000000-0000-4000-8000-00000000e1a7")
        for name, value in self.headers.items():
            h.send_header(name, value)
        if length is None:
            h.send_header("transfer-encoding", "chunked")
            h.send_header("cache-control", "no-cache")
        else:
            h.send_header("content-length", str(length))
        h.end_headers()

    def json(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.head(status, "application/json", len(data))
        self.handler.wfile.write(data)

    def error(self, status: int, error_type: str, message: str) -> None:
        self.record.error = f"{error_type}: {message}"
        if self.route.flavor == "bedrock":  # Bedrock's own error shape
            headers, data = clouds.bedrock_error(status, message)
            self.headers.update(headers)
            self.head(status, "application/json", len(data))
            self.handler.wfile.write(data)
            return
        error = {"type": error_type, "message": message}
        self.json(status, {"type": "error", "error": error, "request_id": self.request_id})

    def raw(self, status: int, data: bytes) -> None:
        self.head(status, "application/json", len(data))
        self.handler.wfile.write(data)

    def sse_start(self) -> None:
        if self.route.flavor == "bedrock":
            self.head(200, "application/vnd.amazon.eventstream", None)
        else:
            self.head(200, "text/event-stream; charset=utf-8", None)

    def _chunk(self, data: bytes) -> None:
        self.handler.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")

    def sse(self, event: str, data: object) -> None:
        if self.route.flavor == "bedrock":
            if event == "error" and isinstance(data, dict):
                error = data.get("error") or {}
                frame = clouds.exception_frame(str(error.get("type")), str(error.get("message")))
                self._chunk(frame)
            elif event != "ping" and isinstance(data, dict):
                self._chunk(clouds.chunk_frame(data))
            return
        self._chunk(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())

    def sse_end(self) -> None:
        self.handler.wfile.write(b"0\r\n\r\n")

    def drop(self) -> None:
        """Close the connection at once, mid-response or before any byte."""
        self.handler.close_connection = True
        try:
            self.handler.wfile.flush()
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def client_gone(self) -> bool:
        sock = self.handler.connection
        readable, _, _ = select.select([sock], [], [], 0)
        try:
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: AnthropicEmulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        self.server.emulator.handle(self)

    def do_GET(self) -> None:
        self.server.emulator.handle(self)


class AnthropicEmulator:
    """The Messages API on 127.0.0.1: `with AnthropicEmulator(scenario) as emu: emu.url`."""

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        api_key: str = API_KEY,
        models: Mapping[str, ModelCard] = MODELS,
        min_cache_tokens: int | None = None,
        seed: str = "emulator",
    ) -> None:
        self.api_key = api_key
        self.models = dict(models)
        self.min_cache_tokens = min_cache_tokens  # None: each model's own minimum
        self.thinking = ThinkingBook(seed)
        self.requests: list[RecordedRequest] = []
        self.expectation_failures: list[str] = []
        self.scenario: Scenario | None = None
        self.turns_played = 0
        self._turn_faults = 0
        self._pending: list[_Pending] = []
        self._cache: dict[str, int] = {}
        self._lock = threading.Lock()
        self._message_ids = id_factory("msg_", seed)
        self._tool_ids = id_factory("toolu_", seed)
        self._request_ids = id_factory("req_", seed)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if scenario is not None:
            self.play(scenario)

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running: use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> AnthropicEmulator:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.emulator = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="anthropic-emulator")
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> AnthropicEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- test controls ----------------------------------------------------------------------

    def play(self, scenario: Scenario) -> None:
        """Answer the next requests with this scenario's turns, from its first turn."""
        with self._lock:
            self.scenario = scenario
            self.turns_played = 0
            self._turn_faults = 0
            # the same tool_use ids as bot.agent.scripted's in-process replay of this scenario
            self._tool_ids = id_factory(seed=scenario.source)

    def inject(self, fault: Fault) -> None:
        """Serve `fault` to the next `fault.times` valid message requests (before scenario faults)."""
        with self._lock:
            self._pending.append(_Pending(fault, fault.times))

    def client(self, **options: Any) -> anthropic.Anthropic:
        """A real `anthropic.Anthropic` client pointed at this emulator."""
        import anthropic

        return anthropic.Anthropic(api_key=self.api_key, base_url=self.url, **options)

    def bedrock_client(self, **options: Any) -> anthropic.AnthropicBedrock:
        """A real `AnthropicBedrock` (InvokeModel) client pointed at this emulator, SigV4-signed."""
        import anthropic

        return anthropic.AnthropicBedrock(
            aws_access_key=clouds.AWS_ACCESS_KEY,
            aws_secret_key=clouds.AWS_SECRET_KEY,
            aws_region="us-east-1",
            base_url=self.url,
            **options,
        )

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """Requests for an answer, through any front: the API, Bedrock or Vertex."""
        return [r for r in self.requests if r.kind == "messages"]

    def _limits(self) -> dict[str, int]:
        """API id or alias -> maximum output, for the models a request may still name."""
        limits: dict[str, int] = {}
        for card in self.models.values():
            if card.lifecycle != "retired":
                for name in (card.id, *card.aliases):
                    limits[name] = card.max_output
        return limits

    # -- request handling -------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in handler.headers.items()}
        record = RecordedRequest(handler.command, handler.path.split("?")[0], headers, None)
        with self._lock:
            self.requests.append(record)
            record.request_id = self._request_ids()
            reply = _Reply(handler, record.request_id, record)
        if record.method == "POST" and record.path == "/token":  # a form, not JSON
            record.kind = "token"
            status, payload = clouds.token_reply(raw.decode("utf-8", "replace"))
            reply.json(status, payload)
            return
        try:
            record.body = json.loads(raw) if raw else None
        except ValueError:
            reply.error(400, "invalid_request_error", "The request body is not valid JSON.")
            return
        cloud = clouds.route(record.path) if record.method == "POST" else None
        if cloud is not None:
            record.flavor = cloud.flavor
            reply.route = cloud
            host = headers.get("host", "")
            problem = clouds.authenticate(cloud, record.method, host, handler.path, headers, body=raw)
            if problem is not None:
                reply.error(*problem)
                return
            self._cloud_messages(reply, record.body, cloud)
            return
        problem = self._authenticate(headers)
        if problem is not None:
            reply.error(*problem)
            return
        if record.method == "POST" and record.path == "/v1/messages":
            self._messages(reply, record.body)
        elif record.method == "POST" and record.path == "/v1/messages/count_tokens":
            record.kind = "count_tokens"
            problem = validate_request(record.body, self._limits(), count_only=True)
            if problem is not None:
                reply.error(*problem)
            else:
                reply.json(200, {"input_tokens": sum(s.tokens for s in _segments(record.body))})
        elif record.method == "GET" and record.path.startswith("/v1/models"):
            self._models_api(reply, record.path, handler.path)
        else:
            reply.error(404, "not_found_error", f"Not found: {record.method} {record.path}")

    def _models_api(self, reply: _Reply, path: str, full: str) -> None:
        """GET /v1/models (paged) and GET /v1/models/{id} (ids and aliases; retired ones too)."""
        import urllib.parse

        reply.record.kind = "models"
        if path == "/v1/models":
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(full).query)
            limit = int((query.get("limit") or ["20"])[0])
            after = (query.get("after_id") or [None])[0]
            reply.json(200, list_models(self.models, max(1, min(limit, 1000)), after))
            return
        model_id = urllib.parse.unquote(path.removeprefix("/v1/models/"))
        card = find(self.models, model_id)
        if card is None:
            reply.error(404, "not_found_error", f"model: {model_id}")
        else:
            reply.json(200, card.info())

    def _cloud_messages(self, reply: _Reply, body: Any, cloud: clouds.Route) -> None:
        """A Bedrock or Vertex request: the cloud's model id and body, then the common path."""
        reply.record.kind = "messages"
        body, problem = clouds.unwrap(cloud, body)
        if problem is not None:
            reply.error(*problem)
            return
        if cloud.flavor == "mantle":
            card = find_mantle(self.models, str(body.get("model")))
            if card is None:
                reply.error(404, "not_found_error", f"model: {body.get('model')}")
                return
            self._messages(reply, {**body, "model": card.id})
            return
        if cloud.flavor == "bedrock":
            card = find_bedrock(self.models, cloud.model)
            if card is None:
                reply.error(400, "invalid_request_error", "The provided model identifier is invalid.")
                return
            if card.bedrock_profile_only and cloud.model == card.bedrock[0]:
                reply.error(
                    400,
                    "invalid_request_error",
                    f"Invocation of model ID {cloud.model} with on-demand throughput isn't supported. "
                    "Retry your request with the ID or ARN of an inference profile that contains this model.",
                )
                return
        else:
            card = find_vertex(self.models, cloud.model)
            if card is None:
                project = reply.record.path.split("/")[2]
                reply.raw(404, clouds.google_not_found(project, cloud.region, cloud.model))
                return
        if card.lifecycle == "retired":
            reply.error(404, "not_found_error", f"model: {cloud.model}")
            return
        self._messages(reply, {**body, "model": card.id, "stream": cloud.stream} if cloud.stream else
                       {**body, "model": card.id})  # fmt: skip

    def _authenticate(self, headers: Mapping[str, str]) -> ErrorReply | None:
        given = headers.get("x-api-key")
        bearer = headers.get("authorization", "")
        if given is None and bearer.lower().startswith("bearer "):
            given = bearer[7:]
        if given is None:
            return 401, "authentication_error", "x-api-key header is required"
        if given != self.api_key:
            return 401, "authentication_error", "invalid x-api-key"
        if not headers.get("anthropic-version"):
            return 400, "invalid_request_error", "anthropic-version: header is required"
        return None

    def _messages(self, reply: _Reply, body: Any) -> None:
        reply.record.kind = "messages"
        problem = validate_request(body, self._limits())
        if problem is not None:
            reply.error(*problem)
            return
        card = find(self.models, body["model"])
        assert card is not None  # validate_request refused unknown models
        reply.record.model = card.id
        mode = self.thinking.mode(body, card)
        if isinstance(mode, tuple):
            reply.error(*mode)
            return
        with self._lock:
            problem = self.thinking.check(body, card, mode)
        if problem is not None:
            reply.error(*problem)
            return
        stream = body.get("stream") is True
        with self._lock:
            fault = self._take_fault()
        reply.record.fault = fault
        if fault is not None:
            time.sleep(fault.delay)
            if fault.kind != "slow":
                self._serve_fault(reply, fault, body, stream)
                return
            if reply.client_gone():
                reply.record.error = "client gave up before the slow answer"
                return
        with self._lock:
            answer = self._next_turn(body, reply.record, card, mode)
        if isinstance(answer, tuple):
            reply.error(*answer)
        elif stream:
            reply.sse_start()
            for event, data in _stream_events(answer):
                reply.sse(event, data)
            reply.sse_end()
        else:
            reply.json(200, answer)

    def _take_fault(self) -> Fault | None:
        if self._pending:
            pending = self._pending[0]
            pending.left -= 1
            if pending.left == 0:
                self._pending.pop(0)
            return pending.fault
        turn = self._current_turn()
        if turn is not None and turn.fault is not None and self._turn_faults < turn.fault.times:
            self._turn_faults += 1
            return turn.fault
        return None

    def _current_turn(self) -> Turn | None:
        if self.scenario is None or self.turns_played >= len(self.scenario.turns):
            return None
        return self.scenario.turns[self.turns_played]

    def _serve_fault(self, reply: _Reply, fault: Fault, body: Any, stream: bool) -> None:
        if fault.retry_after is not None:
            seconds = fault.retry_after
            reply.headers["retry-after"] = str(int(seconds) if seconds == int(seconds) else seconds)
        if fault.should_retry is not None:
            reply.headers["x-should-retry"] = "true" if fault.should_retry else "false"
        error_type = fault.error_type or ERROR_TYPES.get(fault.status, "api_error")
        message = fault.message or ERROR_MESSAGES.get(error_type, "Injected fault.")
        if fault.kind == "drop":
            reply.drop()
        elif fault.kind == "drop_mid_stream" and not stream:
            reply.head(200, "application/json", 4096)
            reply.handler.wfile.write(b'{"id":"msg_01","type":"message","content":[{"type":"te')
            reply.drop()
        elif fault.kind in ("drop_mid_stream", "sse_error") and stream:
            start = _message(self._message_ids(), body["model"], [], None, _usage(body, 0, 0, 1))
            reply.sse_start()
            events = _stream_events(start)
            for event, data in events[:2]:
                reply.sse(event, data)
            if fault.kind == "drop_mid_stream":
                reply.drop()
                return
            error = {"type": error_type, "message": message}
            reply.sse("error", {"type": "error", "error": error, "request_id": reply.request_id})
            reply.sse_end()
        else:
            reply.error(fault.status, error_type, message)

    def _next_turn(
        self, body: dict[str, Any], record: RecordedRequest, card: ModelCard, mode: Mode
    ) -> dict[str, Any] | ErrorReply:
        turn = self._current_turn()
        if turn is None or self.scenario is None:
            have = "no scenario is loaded"
            if self.scenario is not None:
                have = f"{self.scenario.source} has {len(self.scenario.turns)} turns"
            return 400, "invalid_request_error", f"scenario has no turn {self.turns_played + 1} ({have})"
        self.turns_played += 1
        self._turn_faults = 0
        record.turn = turn.number
        self._check(turn, body)
        message_id = self._message_ids()
        content = to_content_blocks(
            turn, self._tool_ids, self.thinking.issue(body, card, turn, mode, message_id)
        )
        self.thinking.link(message_id, content)
        output = turn.usage.output_tokens
        if output is None:
            output = sum(
                estimate_tokens(b.get("text") or b.get("input") or b.get("thinking")) for b in content
            )
            output = output or 1
        read, created = self._cache_usage(body, card)
        usage = _usage(body, read, created, output)
        for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
            override = getattr(turn.usage, key)
            if override is not None:
                usage[key] = override
        usage["cache_creation"]["ephemeral_5m_input_tokens"] = usage["cache_creation_input_tokens"]
        return _message(message_id, body["model"], content, turn.stop_reason, usage)

    def _check(self, turn: Turn, body: dict[str, Any]) -> None:
        assert self.scenario is not None
        where = f"turn {turn.number} ({self.scenario.source}:{turn.line})"
        problems = check_expect(turn.expect, body["messages"]) if turn.expect else []
        offered = {t.get("name") for t in body.get("tools") or []}
        problems += [
            f"calls tool {call.name!r}, which the request does not offer"
            for call in turn.tool_calls
            if call.name not in offered
        ]
        if self.scenario.model is not None and find(self.models, self.scenario.model) is not find(
            self.models, body["model"]
        ):
            problems.append(f"expected model {self.scenario.model!r}, got {body['model']!r}")
        self.expectation_failures += [f"{where}: {p}" for p in problems]

    def _cache_usage(self, body: dict[str, Any], card: ModelCard) -> tuple[int, int]:
        """Simulated prompt caching: (cache read tokens, cache creation tokens) for this request."""
        minimum = self.min_cache_tokens if self.min_cache_tokens is not None else card.cache_min
        segments = _segments(body)
        totals = list(_running(s.tokens for s in segments))
        marks = [i for i, s in enumerate(segments) if s.breakpoint]
        read = 0
        for mark in marks:
            for i in range(mark, max(-1, mark - CACHE_LOOKBACK - 1), -1):
                if segments[i].digest in self._cache:
                    read = max(read, totals[i])
                    break
        writable = [i for i in marks if totals[i] >= minimum]
        for i in writable:
            self._cache[segments[i].digest] = totals[i]
        created = max(0, totals[writable[-1]] - read) if writable else 0
        return read, created


def _running(values: Iterator[int]) -> Iterator[int]:
    total = 0
    for value in values:
        total += value
        yield total


def _segments(body: dict[str, Any]) -> list[_Segment]:
    """The cacheable prefix in API order (tools, system, messages), one segment per block."""
    blocks: list[tuple[int, object, bool]] = []
    tools = body.get("tools") or []
    overhead = TOOL_USE_SYSTEM_TOKENS if tools else 0
    for tool in tools:
        kind = str(tool.get("type") or "")
        overhead += next((n for k, n in BUILTIN_TOOL_TOKENS.items() if kind.startswith(k)), 0)
    for tool in tools:
        blocks.append((overhead, tool, bool(tool.get("cache_control"))))
        overhead = 0
    system = body.get("system")
    if isinstance(system, str):
        blocks.append((0, {"type": "text", "text": system}, False))
    for block in system if isinstance(system, list) else []:
        blocks.append((0, block, bool(block.get("cache_control"))))
    for message in body.get("messages") or []:
        content = message.get("content")
        items: list[Any] = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in items or []:
            inner: list[Any] = block["content"] if isinstance(block.get("content"), list) else []
            marked = any(bool(b.get("cache_control")) for b in [block, *inner] if isinstance(b, dict))
            blocks.append((0, {"role": message.get("role"), **block}, marked))
    if body.get("cache_control") and blocks:
        extra, last, _ = blocks[-1]
        blocks[-1] = (extra, last, True)
    digest = hashlib.sha256(str(body.get("model")).encode()).hexdigest()
    segments: list[_Segment] = []
    for extra, block, marked in blocks:
        plain = _strip_cache_control(block)
        digest = hashlib.sha256((digest + json.dumps(plain, sort_keys=True)).encode()).hexdigest()
        segments.append(_Segment(extra + estimate_tokens(plain), digest, marked))
    return segments


def _strip_cache_control(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_strip_cache_control(v) for v in value]
    return value


def _usage(body: dict[str, Any], read: int, created: int, output: int) -> dict[str, Any]:
    total = sum(s.tokens for s in _segments(body))
    return {
        "input_tokens": max(1, total - read - created),
        "cache_creation_input_tokens": created,
        "cache_read_input_tokens": read,
        "cache_creation": {"ephemeral_5m_input_tokens": created, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output,
        "service_tier": "standard",
    }


def _message(
    message_id: str, model: str, content: list[dict[str, Any]], stop: str | None, usage: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _stream_events(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The SSE events the API streams for `message`, in order."""
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start}),
        ("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            opening: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": c} for c in _chunks(block["text"], 24)]
        elif block["type"] == "thinking":
            opening = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": c} for c in _chunks(block["thinking"], 24)]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif block["type"] == "redacted_thinking":
            opening, deltas = dict(block), []
        else:
            opening = {**block, "input": {}}
            partial = _chunks(json.dumps(block["input"]), 16)
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in ["", *partial]]
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": opening},
            )
        )
        events += [
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        ]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta_usage = {k: usage[k] for k in usage if k.endswith("_tokens")}
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": delta_usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events
