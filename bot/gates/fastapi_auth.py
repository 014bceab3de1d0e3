"""The fastapi_auth gate: which dependency authenticates each route, and whether queries are per-user."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from bot.gates import Finding, GateContext, GateResult
from bot.gates.app_model import AppInfo, RouteInfo
from bot.gates.auth_rules import authentication, is_public, scopes_of
from bot.gates.owner_scope import OwnerScoping, Query
from bot.gates.probe import DEFAULT_TIMEOUT_S, load_app_info
from bot.gates.static_routes import SourceIndex
from bot.settings import Settings

NAME = "fastapi_auth"


@dataclass(frozen=True)
class RouteRow:
    """One line of the route table in the PR body."""

    method: str
    path: str
    auth: str
    public: bool
    owner_scoped: bool | None
    file: str | None
    line: int | None
    source: str
    scopes: tuple[str, ...] = ()
    endpoint: str = ""

    def as_dict(self) -> dict[str, object]:
        row = asdict(self)
        row["scopes"] = list(self.scopes)
        return row


# ---- public routes --------------------------------------------------------------------------------


# ---- authentication ------------------------------------------------------------------------------


def _row(
    route: RouteInfo, method: str, info: AppInfo, settings: Settings, owner_scoped: bool | None = None
) -> RouteRow:
    auth = authentication(route, settings.auth_dependencies)
    return RouteRow(
        method=method,
        path=route.path,
        auth=auth.name if auth else "",
        public=is_public(route, method, settings.public_routes),
        owner_scoped=owner_scoped,
        file=route.file,
        line=route.line,
        source=info.source,
        scopes=scopes_of(auth) if auth else (),
        endpoint=route.endpoint,
    )


def route_table(info: AppInfo, settings: Settings) -> list[RouteRow]:
    """One row per (method, path), without owner scoping (the gate adds it)."""
    rows = [_row(r, m, info, settings) for r in info.routes for m in r.methods]
    return sorted(rows, key=lambda r: (r.path, r.method))


# ---- owner scoping (always read from the source) ----------------------------------------------------


# ---- the gate --------------------------------------------------------------------------------------


def _fix(rows: Sequence[RouteRow]) -> str:
    used = Counter(r.auth for r in rows if r.auth)
    return used.most_common(1)[0][0] if used else "get_current_user_id"


def _unauthenticated(row: RouteRow, route: RouteInfo, dependency: str) -> Finding:
    if route.kind == "mount":
        message = (
            f"the app mounted at {row.path} is not checked for authentication; protect it and list "
            f"'{row.path}/**' in public-routes, or remove the mount"
        )
    else:
        handler = route.endpoint.rpartition(".")[2] or "its handler"
        message = (
            f"{row.method} {row.path} has no authentication dependency: add "
            f"`Depends({dependency})` to the parameters of {handler} (or to its router's "
            f"`dependencies=`), or list '{row.method} {row.path}' in public-routes if it is meant "
            "to be open"
        )
    return Finding(message, row.file, row.line, "error", "unauthenticated-route")


def _unscoped(row: RouteRow, query: Query) -> Finding:
    model = query.model
    return Finding(
        f"{row.method} {row.path}: `{query.text}` reads {model.name} rows without the current "
        f"user's id ({model.name}.{model.owner} holds the owner); filter on it, e.g. "
        f"`.where({model.name}.{model.owner} == user_id)`, so a user cannot reach another's data",
        query.file,
        query.line,
        "warning",
        "owner-scope",
    )


def gate(ctx: GateContext, info: AppInfo | None = None, *, timeout: float = DEFAULT_TIMEOUT_S) -> GateResult:
    """Every route not listed in public-routes must depend on authentication (see docs/gates.md)."""
    started = time.monotonic()
    info = info if info is not None else load_app_info(ctx, timeout)
    settings = ctx.settings
    findings: list[Finding] = []
    if info.source == "static" and info.error:
        findings.append(
            Finding(
                f"the app could not be imported, so its routes were read from the source: {info.error}",
                severity="warning",
                rule="import-failed",
            )
        )
    if not info.routes:
        findings.append(
            Finding(
                f"no route found for {info.app or 'the app'}, so authentication cannot be checked; "
                "set `app: module:attribute` in .github/specship.yml",
                rule="no-routes",
            )
        )
    scoping = OwnerScoping(SourceIndex(ctx.app_dir, ctx.repo), settings.auth_dependencies)
    fix = _fix(route_table(info, settings))
    warned: set[tuple[str, int]] = set()
    table: list[RouteRow] = []
    for route in info.routes:
        scoped, unscoped = scoping.route(route) if route.kind in ("http", "websocket") else (None, [])
        for method in route.methods:
            row = _row(route, method, info, settings, scoped)
            table.append(row)
            if not row.auth and not row.public:
                findings.append(_unauthenticated(row, route, fix))
            for query in unscoped:
                if (query.file, query.line) not in warned:
                    warned.add((query.file, query.line))
                    findings.append(_unscoped(row, query))
    table.sort(key=lambda r: (r.path, r.method))
    open_routes = sum(1 for r in table if not r.auth and not r.public)
    how = "imported" if info.source == "import" else "static analysis; the app did not import"
    summary = (
        f"{len(table)} routes ({how}): {sum(1 for r in table if r.auth)} authenticated, "
        f"{sum(1 for r in table if r.public and not r.auth)} public, {open_routes} unauthenticated; "
        f"{sum(1 for r in table if r.owner_scoped)} owner-scoped, "
        f"{sum(1 for r in table if r.owner_scoped is False)} with unscoped queries"
    )
    return GateResult(
        NAME,
        summary,
        tuple(findings),
        seconds=time.monotonic() - started,
        details={
            "routes": [r.as_dict() for r in table],
            "method": info.source,
            "error": info.error,
            "app": info.app,
        },
    )
