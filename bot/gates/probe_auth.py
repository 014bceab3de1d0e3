"""Specship's behavioural auth probe: requests without valid credentials sent to every route, in-process."""

# Standalone on purpose, like probe_script.py, which loads this file by path in the sandbox: stdlib
# only, plain ASGI calls (no httpx or TestClient), with the app's own lifespan startup. No endpoint
# ever runs: once FastAPI has solved a route's dependencies without an error (the moment the
# endpoint would be called), the probe records that the request got through and raises instead.
from __future__ import annotations

import asyncio
import base64
import datetime
import enum
import hashlib
import hmac
import json
import re
import secrets
import time
import typing
import urllib.parse
import uuid
from typing import Any

REQUEST_TIMEOUT_S = 10.0
STARTUP_TIMEOUT_S = 30.0
BUDGET_S = 60.0
PROBES = ("no credentials", "a token signed with the wrong key", "an expired token", "an unsigned token")
_PARAM = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?}")
_CONVERTORS = {
    "int": "1",
    "float": "1.5",
    "path": "specship/probe",
    "uuid": "00000000-0000-4000-8000-000000000001",
}


class Reached(Exception):
    """Raised where the endpoint would have been called: the request got through."""


_REACHED: list[bool] = [False]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(key: str | None, expires_in: int) -> str:
    """A well-formed JWT (HS256, or alg none without a key) for the subject specship-probe."""
    now = int(time.time())
    header = {"alg": "HS256" if key else "none", "typ": "JWT"}
    claims = {"sub": "specship-probe", "iat": now - 60, "exp": now + expires_in}
    body = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = hmac.new(key.encode(), body.encode(), hashlib.sha256).digest() if key else b""
    return f"{body}.{_b64(signature)}"


def tokens(app_key: str) -> dict[str, str | None]:
    """What each probe sends: nothing, a wrong key, the app's own (placeholder) key but expired, alg none."""
    return {
        PROBES[0]: None,
        PROBES[1]: jwt(secrets.token_hex(32), 3600),
        PROBES[2]: jwt(app_key, -3600),
        PROBES[3]: jwt(None, 3600),
    }


def _dummy(annotation: Any) -> str:
    """A value of the parameter's type, so routing and validation do not stop the request first."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _dummy(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return str(typing.get_args(annotation)[0])
    if origin is not None:  # Optional[X], X | None, Union[...]: the first real member
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _dummy(members[0]) if members else "1"
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return str(next(iter(annotation)).value)
        for kind, value in (
            (bool, "true"),
            (int, "1"),
            (float, "1.5"),
            (uuid.UUID, _CONVERTORS["uuid"]),
            (datetime.datetime, "2026-01-01T00:00:00"),
            (datetime.date, "2026-01-01"),
            (str, "specship-probe"),
        ):
            if issubclass(annotation, kind):
                return value
    return "1"


def _annotation(field: Any) -> Any:
    info = getattr(field, "field_info", None)
    return getattr(info, "annotation", None) or getattr(field, "type_", None)


def concrete_path(path: str, dependant: Any) -> str:
    """The route's URL: a type-correct value for each path parameter and required query parameter."""
    types = {getattr(f, "name", ""): _annotation(f) for f in getattr(dependant, "path_params", None) or ()}

    def value(match: re.Match[str]) -> str:
        name, convertor = match.group(1), match.group(2)
        if convertor in _CONVERTORS:
            return _CONVERTORS[convertor]
        return urllib.parse.quote(_dummy(types.get(name)), safe="")

    query = [
        (str(getattr(f, "alias", None) or getattr(f, "name", "")), _dummy(_annotation(f)))
        for f in getattr(dependant, "query_params", None) or ()
        if getattr(f, "required", False) is True
    ]
    url = _PARAM.sub(value, path)
    return f"{url}?{urllib.parse.urlencode(query)}" if query else url


def _only_body(errors: Any) -> bool:
    """Every error is about the request body: each dependency, authentication included, has run."""
    try:
        return all(isinstance(e, dict) and tuple(e.get("loc") or ())[:1] == ("body",) for e in errors)
    except TypeError:
        return False


def install_sentinel() -> None:
    """Record and stop every request whose route dependencies were solved without an error."""
    from fastapi import routing

    original = routing.solve_dependencies  # type: ignore[attr-defined]

    async def solve(*args: Any, **kwargs: Any) -> Any:
        solved = await original(*args, **kwargs)
        errors = getattr(solved, "errors", None)
        if errors is None and isinstance(solved, tuple) and len(solved) > 1:
            errors = solved[1]  # FastAPI before 0.112 returned a tuple
        # Only the endpoint's body was wrong (the probe sends none): authentication let it through.
        body_only = bool(getattr(kwargs.get("dependant"), "body_params", None)) and _only_body(errors)
        if not errors or body_only:
            _REACHED[0] = True
            raise Reached("the endpoint would run now")
        return solved

    routing.solve_dependencies = solve  # type: ignore[attr-defined]


class _Driver:
    """Plain ASGI calls against the app, inside its lifespan."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[Any] | None = None

    async def start(self) -> str | None:
        """Run the app's startup; the reason it failed, or None."""
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        self.task = asyncio.ensure_future(self.app(scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "lifespan.startup"})
        reply = asyncio.ensure_future(self.from_app.get())
        done, _ = await asyncio.wait(
            {reply, self.task}, timeout=STARTUP_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        if reply in done:
            message = reply.result()
            if message.get("type") == "lifespan.startup.failed":
                return str(message.get("message") or "the lifespan startup failed")
            return None
        reply.cancel()
        if self.task in done:
            exc = self.task.exception()
            return None if exc is None else f"{type(exc).__name__}: {exc}"
        return f"the app's startup did not finish within {STARTUP_TIMEOUT_S:g} s"

    async def stop(self) -> None:
        if self.task is not None and not self.task.done():
            await self.to_app.put({"type": "lifespan.shutdown"})
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 5)
            except Exception:  # shutting down anyway (asyncio.TimeoutError is one too)
                self.task.cancel()

    async def request(
        self, kind: str, method: str, path: str, token: str | None, endpoint: Any = None
    ) -> dict[str, Any]:
        path, _, query = path.partition("?")
        headers = [(b"host", b"testserver"), (b"user-agent", b"specship-probe")]
        if token is not None:
            headers += [
                (b"authorization", f"Bearer {token}".encode()),
                (b"cookie", f"access_token={token}".encode()),
            ]
        scope: dict[str, Any] = {
            "type": "websocket" if kind == "websocket" else "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "ws" if kind == "websocket" else "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": dict(self.state),
            "subprotocols": [],
        }
        sent: list[dict[str, Any]] = []
        first = (
            {"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request", "body": b""}
        )
        inbox: list[dict[str, Any]] = [first]

        async def receive() -> dict[str, Any]:
            if inbox:
                return inbox.pop(0)
            await asyncio.sleep(REQUEST_TIMEOUT_S)
            return {"type": "websocket.disconnect" if kind == "websocket" else "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        _REACHED[0] = False
        error = None
        try:
            await asyncio.wait_for(self.app(scope, receive, send), REQUEST_TIMEOUT_S)
        except Reached:
            pass
        except (TimeoutError, asyncio.TimeoutError):  # noqa: UP041 - distinct before Python 3.11
            error = f"no answer within {REQUEST_TIMEOUT_S:g} s"
        except Exception as exc:  # the app's own error is part of the answer
            error = f"{type(exc).__name__}: {exc}"[:300]
        routed = scope.get("endpoint")  # Starlette's router writes the matched route into the scope
        if endpoint is not None and routed is not None and routed is not endpoint:
            name = getattr(routed, "__name__", type(routed).__name__)
            return {
                "status": _status(sent),
                "reached": False,
                "error": f"routed to {name}",
                "elsewhere": True,
            }
        return {"status": _status(sent), "reached": _REACHED[0], "error": None if _REACHED[0] else error}


def _status(sent: list[dict[str, Any]]) -> int | None:
    for message in sent:
        kind = message.get("type")
        if kind in ("http.response.start", "websocket.http.response.start"):
            return int(message.get("status", 0))
        if kind == "websocket.close":
            return 403  # closed before accepting: the connection was refused
        if kind == "websocket.accept":
            return 101
    return None


async def _probe(app: Any, targets: list[dict[str, Any]], app_key: str) -> dict[str, Any]:
    driver = _Driver(app)
    startup = await driver.start()
    results: list[dict[str, Any]] = []
    if startup is None:
        started, sent = time.monotonic(), tokens(app_key)
        for target in targets:
            endpoint = target.pop("endpoint", None)
            if time.monotonic() - started > BUDGET_S:
                results.append({**target, "results": None, "skipped": f"the probe's {BUDGET_S:g} s ran out"})
                continue
            kind, method, url = target["kind"], target["method"], target["url"]
            answers = {
                label: await driver.request(kind, method, url, token, endpoint)
                for label, token in sent.items()
            }
            results.append({**target, "results": answers})
    await driver.stop()
    return {"startup_error": startup, "routes": results}


def probe_routes(app: Any, targets: list[dict[str, Any]], app_key: str) -> dict[str, Any]:
    """Send each target (kind, method, path, url) the probe requests; never raises."""
    try:
        install_sentinel()
        return asyncio.run(_probe(app, targets, app_key))
    except Exception as exc:  # reported to the gate as "could not probe"
        return {"startup_error": f"the probe could not run: {type(exc).__name__}: {exc}"[:500], "routes": []}
