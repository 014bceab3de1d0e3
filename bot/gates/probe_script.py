"""Specship's app probe: run in the sandbox, it imports the FastAPI app and prints its routes as JSON."""

# Standalone on purpose: it runs under the project's interpreter with only the stdlib and the app's
# own dependencies, as `python <copy of this file> <nonce> <module:attr[()]> <config JSON>` with
# cwd = app directory; the config names the auth probe's files (probe_auth.py, probe_keys.py),
# loaded by path.
from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import json
import os
import re
import sys
import traceback
from typing import Any

BEGIN = "SPECSHIP-PROBE-BEGIN-"
END = "SPECSHIP-PROBE-END-"
MAX_DEPTH = 32
_ABS_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s'\"():,/]+/)+([^\s'\"():,/]+)")


def _relative(path: str | None, root: str) -> str | None:
    """The path relative to the app directory, or None when it lies outside (FastAPI, stdlib)."""
    if not path or not os.path.isabs(path):  # "<frozen os>", "<string>": not a file of the app
        return None
    real = os.path.realpath(path)
    if real == root or not real.startswith(root + os.sep):
        return None
    return os.path.relpath(real, root)


def _clean(text: str, root: str) -> str:
    """Paths inside the app become relative; paths elsewhere on the machine keep only their name."""
    text = text.replace(root + os.sep, "")
    return _ABS_PATH.sub(lambda m: "…/" + m.group(1), text)[:2000]


def _describe(exc: BaseException, root: str) -> str:
    """`Type: message (at file:line)` with the innermost frame that belongs to the app."""
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        rel = _relative(frame.filename, root)
        if rel is not None:
            where = f" (at {rel}:{frame.lineno})"
    if isinstance(exc, SyntaxError) and exc.filename:
        rel = _relative(exc.filename, root)
        where = f" (at {rel}:{exc.lineno})" if rel else where
    return _clean(f"{type(exc).__name__}: {exc}{where}", root)


def _load(spec: str) -> Any:
    module_name, _, attr = spec.partition(":")
    factory = attr.endswith("()")
    attr = attr.removesuffix("()")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if factory or (inspect.isfunction(obj) and not hasattr(obj, "routes")):
        obj = obj()  # `module:create_app` names a factory
    if not hasattr(obj, "routes") or not hasattr(obj, "openapi"):
        raise TypeError(f"{spec} is a {type(obj).__name__}, not a FastAPI application")
    return obj


def _target(call: Any) -> Any:
    """The callable FastAPI really calls: partials and decorators (lru_cache, wraps) unwrapped."""
    for _ in range(MAX_DEPTH):
        if isinstance(call, functools.partial):
            call = call.func
            continue
        wrapped = getattr(call, "__wrapped__", None)
        if wrapped is None or not callable(wrapped):
            return call
        call = wrapped
    return call


def _names(obj: Any) -> tuple[str, str]:
    """(simple name, module-qualified name) of a function, a class, or an instance's class."""
    if not (inspect.isroutine(obj) or inspect.isclass(obj)):
        obj = type(obj)
    name = getattr(obj, "__name__", None) or type(obj).__name__
    qualname = getattr(obj, "__qualname__", name)
    module = getattr(obj, "__module__", None)
    return str(name), f"{module}.{qualname}" if module else str(qualname)


def _source(obj: Any, root: str) -> tuple[str | None, int | None]:
    """File (relative to the app) and line of the `def`/`class` keyword, past any decorator.

    Memoized per object: every route names the same few dependencies (the current user, the
    session), and a big app would otherwise look each one up once per route."""
    if not (inspect.isroutine(obj) or inspect.isclass(obj)):
        obj = type(obj)
    known = _SOURCES.get((id(obj), root))
    if known is not None and known[0] is obj:
        return known[1]
    found = _find_source(obj, root)
    _SOURCES[id(obj), root] = (obj, found)  # the object is kept, so its id cannot be reused meanwhile
    return found


_SOURCES: dict[tuple[int, str], tuple[Any, tuple[str | None, int | None]]] = {}
_HEADER = ("def ", "async def ", "class ")


def _find_source(obj: Any, root: str) -> tuple[str | None, int | None]:
    try:
        file = _relative(inspect.getsourcefile(obj), root)
        if file is None:
            return None, None
        obj = inspect.unwrap(obj)  # as inspect.getsourcelines does
        lines, index = inspect.findsource(obj)
    except (OSError, TypeError):
        return None, None
    code = getattr(obj, "__code__", None)
    # A def's own header line is in its block, after its decorators: the first header line from
    # the first decorator on is the one getsourcelines' block would give, found without tokenizing
    # the whole function (the cost of a big app's route table). Lambdas and classes take the block.
    plain = code is not None and code.co_name != "<lambda>"
    for offset, text in enumerate(lines[index:] if plain else inspect.getblock(lines[index:])):
        if text.lstrip().startswith(_HEADER):
            return file, index + 1 + offset
    return file, index + 1


def _dependency(dependant: Any, root: str, depth: int = 0) -> dict[str, Any]:
    from fastapi.security.base import SecurityBase

    call = _target(dependant.call)
    name, qualname = _names(call)
    security = None
    optional = False
    if isinstance(call, SecurityBase):
        # FastAPI names a scheme by scheme_name (default: the class name), as in the OpenAPI document.
        name = security = str(getattr(call, "scheme_name", None) or type(call).__name__)
        optional = getattr(call, "auto_error", True) is False
    file, line = _source(call, root)
    children = [] if depth >= MAX_DEPTH else list(dependant.dependencies)
    return {
        "param": dependant.name,
        "name": name,
        "qualname": qualname,
        "security": security,
        "optional": optional,
        "scopes": [str(s) for s in (getattr(dependant, "own_oauth_scopes", None) or [])],
        "file": file,
        "line": line,
        "children": [_dependency(child, root, depth + 1) for child in children],
    }


def _contexts(app: Any) -> list[tuple[Any, Any]]:
    """(declared route, effective route) pairs, walked as FastAPI's own OpenAPI generation does.

    Recent FastAPI wraps included routers in a private _IncludedRouter; iter_route_contexts
    yields their routes with the prefix and the include_router/APIRouter dependencies applied.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return [(route, route) for route in app.routes]
    return [(context.original_route, context) for context in iter_route_contexts(app.routes)]


def _route(original: Any, effective: Any, root: str) -> dict[str, Any] | None:
    from fastapi.routing import APIRoute, APIWebSocketRoute
    from starlette.routing import Mount, Route, WebSocketRoute

    endpoint = getattr(effective, "endpoint", None)
    row: dict[str, Any] = {
        "path": str(getattr(effective, "path", "") or ""),
        "name": str(getattr(effective, "name", "") or ""),
        "include_in_schema": bool(getattr(effective, "include_in_schema", True)),
        "docs": False,
        "dependencies": [],
        "endpoint": None,
        "file": None,
        "line": None,
    }
    if isinstance(original, APIRoute):
        row["kind"], row["methods"] = "http", sorted(effective.methods or ["GET"])
    elif isinstance(original, APIWebSocketRoute):
        row["kind"], row["methods"] = "websocket", ["WEBSOCKET"]
    elif isinstance(original, Route):
        methods = set(effective.methods or ["GET"])
        if "GET" in methods:
            methods.discard("HEAD")  # Starlette adds HEAD to every GET route by itself
        row["kind"], row["methods"] = "route", sorted(methods)
        row["docs"] = getattr(endpoint, "__module__", "") == "fastapi.applications"
    elif isinstance(original, WebSocketRoute):
        row["kind"], row["methods"] = "websocket", ["WEBSOCKET"]
    elif isinstance(original, Mount):
        row["kind"], row["methods"], endpoint = "mount", ["MOUNT"], None
    else:
        # Any other route type (a custom BaseRoute, a frontend group) is listed, never skipped:
        # the gate then demands it be authenticated or declared public.
        declared = getattr(effective, "methods", None)
        row["kind"], row["methods"] = "other", sorted(declared) if declared else ["*"]
        row["path"] = row["path"] or str(getattr(effective, "frontend_prefix", "") or "/")
    dependant = getattr(effective, "dependant", None)
    if dependant is not None:
        row["dependencies"] = [_dependency(d, root) for d in dependant.dependencies]
    if endpoint is not None:
        target = _target(endpoint)
        row["endpoint"] = _names(target)[1]
        row["file"], row["line"] = _source(target, root)
    if row["kind"] in ("http", "websocket") and dependant is not None:
        row["dependant"] = dependant  # for the auth probe's URL; dropped before the JSON
        row["endpoint_object"] = endpoint  # to tell whether the probe's request reached this route
    return row


def _targets(routes: list[dict[str, Any]], helper: Any) -> list[dict[str, Any]]:
    """One probe target per method of each FastAPI route, with a type-correct URL."""
    targets = []
    for row in routes:
        dependant = row.pop("dependant", None)
        endpoint = row.pop("endpoint_object", None)
        if dependant is None or helper is None:
            continue
        url = helper.concrete_path(row["path"], dependant)
        for method in row["methods"]:
            verb = "GET" if method == "WEBSOCKET" else method
            target = {"kind": row["kind"], "method": verb, "path": row["path"], "label": method, "url": url}
            targets.append({**target, "endpoint": endpoint})
    return targets


def _helper(path: object, name: str) -> Any:
    """A file of the auth probe, loaded by its path so no module of the app can stand in for it."""
    if not isinstance(path, str) or not path:
        return None
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def probe(spec: str, root: str, helper: Any = None, key: str = "", keys: Any = None) -> dict[str, Any]:
    """Import the app, describe it and probe its routes; never raises (errors are part of the answer)."""
    doc: dict[str, Any] = {"app": spec, "error": None, "routes": [], "openapi": None, "openapi_error": None}
    try:
        app = _load(spec)
    except BaseException as exc:  # SystemExit from the app is an import failure too
        doc["error"] = _describe(exc, root)
        return doc
    routes: list[dict[str, Any]] = []
    try:
        routes = [r for r in (_route(o, e, root) for o, e in _contexts(app)) if r is not None]
    except Exception as exc:  # reported to the gate, which falls back to the source
        doc["error"] = "reading the routes failed: " + _describe(exc, root)
    targets = _targets(routes, helper)
    doc["routes"] = routes
    try:
        doc["openapi"] = app.openapi()
    except Exception as exc:  # the contracts gate reports it
        doc["openapi_error"] = _describe(exc, root)
    if helper is not None and not doc["error"]:
        # The expired token is signed with the app's own key where it can be found (never printed).
        key, where = keys.app_key(root, os.environ, key) if keys is not None else (key, "")
        doc["probe"] = helper.probe_routes(app, targets, key)
        doc["probe"]["expired_key"] = where
        doc["probe"]["decodes_jwt"] = keys.decodes_jwt() if keys is not None else True
        if doc["probe"].get("startup_error"):
            doc["probe"]["startup_error"] = _clean(str(doc["probe"]["startup_error"]), root)
    return doc


def main(argv: list[str]) -> int:
    nonce, spec = argv[1], argv[2]
    try:
        config = json.loads(argv[3]) if len(argv) > 3 else {}
    except ValueError:
        config = {}
    config = config if isinstance(config, dict) else {}
    # Before the app directory joins sys.path: none of its modules can stand in for the probe's.
    helper = _helper(config.get("helper"), "specship_probe_auth")
    keys = _helper(config.get("keys"), "specship_probe_keys")
    # Markers carry the nonce so that what the app prints cannot pass for the result by accident.
    # Code bent on it could still read /proc/self/cmdline: the probe guards against mistakes, and
    # the gates judge the route table it reports, not the app's own claims.
    del sys.argv[1:]
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    root = os.path.realpath(os.getcwd())
    if sys.path[:1] != [root]:
        sys.path.insert(0, root)
    doc = probe(spec, root, helper, str(config.get("key") or ""), keys)
    try:
        text = json.dumps(doc, default=repr)
    except ValueError as exc:  # a circular structure in the OpenAPI document
        doc["openapi"], doc["openapi_error"] = None, f"the OpenAPI document is not JSON: {exc}"
        text = json.dumps(doc, default=repr)
    sys.stdout.flush()
    out.write(f"\n{BEGIN}{nonce}\n{text}\n{END}{nonce}\n")
    out.flush()
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # Threads or atexit hooks the app started must not hold the probe until its timeout.
    os._exit(code)
