"""The app's route table and OpenAPI document: imported in the sandbox, else read from the source."""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot import sandbox
from bot.gates import GateContext
from bot.gates.app_model import (
    AppInfo,
    AppLocation,
    AuthProbe,
    DependencyInfo,
    ProbeAnswer,
    RouteInfo,
    RouteProbe,
)
from bot.gates.app_source import locate_app
from bot.gates.harness_files import installed

PROBE_SCRIPT = Path(__file__).with_name("probe_script.py")
PROBE_AUTH = Path(__file__).with_name("probe_auth.py")
PROBE_KEYS = Path(__file__).with_name("probe_keys.py")
# Obviously fake, and 72 characters: longer than any HMAC minimum (HS512 wants 64 bytes).
PLACEHOLDER = "specship-probe-placeholder-".ljust(72, "0")
OUTPUT_CAP = 32 * 1024 * 1024
DEFAULT_TIMEOUT_S = 120.0
SPAWN_WAIT_S = 2.0  # at most this long before the other gates go on (a slow fork is not a hang)
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL|PRIVATE|SALT", re.I)
_SANDBOX_OWN = frozenset({"PATH", "LANG", "LC_ALL", "TZ", "CI"})
_ABS_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s'\"():,/]+/)+([^\s'\"():,/]+)")


def _env_example(path: Path, repo: Path) -> list[tuple[str, str]]:
    real = path.resolve()
    # Only a regular file of the repository: a symlink to /proc/self/environ must not be read.
    if not real.is_relative_to(repo.resolve()) or not real.is_file() or real.stat().st_size > 1_000_000:
        return []
    pairs = []
    for line in real.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _ENV_LINE.match(line)
        if match:
            value = match.group(2).strip()
            if value[:1] in ("'", '"') and value.endswith(value[0]) and len(value) > 1:
                value = value[1:-1]
            else:
                value = value.split(" #", 1)[0].strip()
            pairs.append((match.group(1), value))
    return pairs


def probe_env(ctx: GateContext) -> dict[str, str]:
    """Environment for the import: a fake value for every variable .env.example names.

    Secret-looking names and empty values get the placeholder; other names keep the example's own
    value (`JWT_ALGORITHM=HS256`), since apps validate those at import and would refuse a
    placeholder. DATABASE_URL is always an in-memory SQLite database.
    """
    env: dict[str, str] = {}
    for path in (ctx.repo / ".env.example", ctx.app_dir / ".env.example"):
        for name, example in _env_example(path, ctx.repo):
            if name in _SANDBOX_OWN or name.startswith("PYTHON"):
                continue  # the sandbox sets these itself
            keep = example and not _SECRET_NAME.search(name) and len(example) <= 200
            for value in ([example] if keep else []) + [PLACEHOLDER]:
                try:
                    sandbox.check_env_extras({name: value})
                except ValueError:
                    continue
                env[name] = value
                break
    env["DATABASE_URL"] = "sqlite://"
    return env


def parse_probe_output(output: str, nonce: str) -> dict[str, Any] | None:
    """The JSON document between the last pair of markers carrying this run's nonce."""
    end = output.rfind(f"SPECSHIP-PROBE-END-{nonce}")
    if end < 0:
        return None
    begin_marker = f"SPECSHIP-PROBE-BEGIN-{nonce}"
    begin = output.rfind(begin_marker, 0, end)
    if begin < 0:
        return None
    try:
        doc = json.loads(output[begin + len(begin_marker) : end])
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _clean(text: str, root: Path) -> str:
    """No machine paths in messages: the app directory becomes relative, others keep their name."""
    text = text.replace(str(root) + os.sep, "")
    return _ABS_PATH.sub(lambda m: "…/" + m.group(1), text).strip()


def _repo_path(ctx: GateContext, rel: object) -> str | None:
    if not isinstance(rel, str) or not rel:
        return None
    full = (ctx.app_dir / rel).resolve()
    repo = ctx.repo.resolve()
    return full.relative_to(repo).as_posix() if full.is_relative_to(repo) else rel


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dependency(ctx: GateContext, data: dict[str, Any]) -> DependencyInfo:
    return DependencyInfo(
        name=str(data.get("name") or ""),
        qualname=str(data.get("qualname") or ""),
        param=data.get("param") if isinstance(data.get("param"), str) else None,
        security=data.get("security") if isinstance(data.get("security"), str) else None,
        optional=data.get("optional") is True,
        scopes=tuple(str(s) for s in data.get("scopes") or ()),
        children=tuple(_dependency(ctx, c) for c in data.get("children") or () if isinstance(c, dict)),
        file=_repo_path(ctx, data.get("file")),
        line=_int(data.get("line")),
    )


def _route(ctx: GateContext, data: dict[str, Any]) -> RouteInfo:
    return RouteInfo(
        methods=tuple(str(m) for m in data.get("methods") or ()),
        path=str(data.get("path") or ""),
        endpoint=str(data.get("endpoint") or ""),
        file=_repo_path(ctx, data.get("file")),
        line=_int(data.get("line")),
        dependencies=tuple(
            _dependency(ctx, d) for d in data.get("dependencies") or () if isinstance(d, dict)
        ),
        kind=str(data.get("kind") or "http"),
        docs=bool(data.get("docs")),
        include_in_schema=bool(data.get("include_in_schema", True)),
    )


def _answer(data: object) -> ProbeAnswer:
    data = data if isinstance(data, dict) else {}
    error = data.get("error")
    return ProbeAnswer(
        _int(data.get("status")),
        data.get("reached") is True,
        error if isinstance(error, str) else None,
        elsewhere=data.get("elsewhere") is True,
    )


def _auth_probe(doc: dict[str, Any]) -> AuthProbe | None:
    raw = doc.get("probe")
    if not isinstance(raw, dict):
        return None
    startup = raw.get("startup_error")
    routes: dict[tuple[str, str], RouteProbe] = {}
    for item in raw.get("routes") or ():
        if not isinstance(item, dict):
            continue
        answers = item.get("results")
        parsed = {str(k): _answer(v) for k, v in answers.items()} if isinstance(answers, dict) else {}
        skipped = item.get("skipped")
        probe = RouteProbe(str(item.get("label")), str(item.get("path")), str(item.get("url")), parsed,
                           skipped if isinstance(skipped, str) else None)  # fmt: skip
        routes[(probe.method, probe.path)] = probe
    key = raw.get("expired_key")
    return AuthProbe(
        startup if isinstance(startup, str) else None,
        routes,
        key if isinstance(key, str) else "",
        raw.get("decodes_jwt") is not False,
    )


def _probe(
    ctx: GateContext,
    location: AppLocation,
    timeout: float,
    env: dict[str, str],
    started: threading.Event | None = None,
) -> tuple[dict[str, Any] | None, str]:
    """The sandboxed import itself: nothing here reads a parse cache or git, so it may run in a
    thread while other gates do; `started` is set once the import's process exists (or will not)."""
    nonce = secrets.token_hex(16)
    files = {f.name: f for f in (PROBE_SCRIPT, PROBE_AUTH, PROBE_KEYS)}
    try:
        with installed(files) as harness:
            helpers = {"helper": str(harness / PROBE_AUTH.name), "keys": str(harness / PROBE_KEYS.name)}
            config = json.dumps({**helpers, "key": PLACEHOLDER})
            result = sandbox.run(
                [ctx.python, str(harness / PROBE_SCRIPT.name), nonce, location.spec, config],
                cwd=ctx.app_dir,
                timeout=timeout,
                isolate=True,
                env=env,
                output_cap=OUTPUT_CAP,
                started=started,
            )
    finally:
        if started is not None:
            started.set()
    doc = parse_probe_output(result.output, nonce)
    if doc is not None:
        return doc, ""
    last = [line for line in result.output.strip().splitlines() if line.strip()][-1:]
    said = f": {_clean(last[0], ctx.app_dir)[:500]}" if last else ""
    return None, f"importing {location.spec} {result.status} without a result{said}"


def load_app_info(ctx: GateContext, timeout: float = DEFAULT_TIMEOUT_S) -> AppInfo:
    """Import the app in the sandbox and describe it; when that fails, read its source instead."""
    return start_app_info(ctx, timeout, background=False)()


def start_app_info(
    ctx: GateContext, timeout: float = DEFAULT_TIMEOUT_S, *, background: bool = True
) -> Callable[[], AppInfo]:
    """load_app_info in two halves: finding the app and preparing the sandbox now, in this thread;
    the sandboxed import in a thread of its own (`background`), so that the gates that do not need
    the app run while it does; the returned call waits for it and reads the routes here."""
    location = locate_app(ctx.app_dir, ctx.settings.app) if ctx.settings.app else None
    if location is None:
        from bot.gates.app_detect import detect_app

        detection = detect_app(ctx.app_dir, ctx.repo, ctx.settings.app_directory)
        if detection.location is None:
            info = AppInfo([], None, f"{detection.problem} (set `app: module:attribute`)", "static")
            return lambda: info
        location = detection.location
    found = location
    ctx.share.prepare_workspace(ctx.repo)
    env = {**probe_env(ctx), **ctx.env}  # test-env (the project's real settings) wins
    if not background:
        done = _probe(ctx, found, timeout, env)
        return lambda: _app_info(ctx, found, *done)
    pool = ThreadPoolExecutor(1, thread_name_prefix="specship-probe")
    started = threading.Event()
    future = pool.submit(_probe, ctx, found, timeout, env, started)
    pool.shutdown(wait=False)  # the thread ends with the probe; nothing else is ever queued
    # The gates that run meanwhile hold the GIL for milliseconds at a time, and each system call
    # of the thread's start-up (scratch directories, the fork) would wait for it: the import
    # starts ~25 ms sooner when they begin once its process exists.
    started.wait(SPAWN_WAIT_S)
    return lambda: _app_info(ctx, found, *future.result())


def _app_info(ctx: GateContext, location: AppLocation, doc: dict[str, Any] | None, why: str) -> AppInfo:
    if doc is not None and not doc.get("error"):
        routes = [_route(ctx, r) for r in doc.get("routes") or () if isinstance(r, dict)]
        openapi = doc.get("openapi") if isinstance(doc.get("openapi"), dict) else None
        oerr = doc.get("openapi_error")
        return AppInfo(
            routes,
            openapi,
            None,
            "import",
            location.spec,
            oerr if isinstance(oerr, str) else None,
            _auth_probe(doc),
        )
    from bot.gates.static_routes import static_app_info

    error = str(doc["error"])[:2000] if doc is not None else why
    return static_app_info(ctx, location, error)


# ---- static analysis: the app's source read with `ast`, never executed ----------------------------
