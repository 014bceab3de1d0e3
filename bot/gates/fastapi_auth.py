"""The fastapi_auth gate: every non-public route refuses bad credentials (probed), queries are per-user."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from bot.gates import Finding, GateContext, GateResult, Unverified
from bot.gates.app_model import AppInfo, RouteInfo
from bot.gates.auth_decide import FIX_IMPORT, FIX_STARTUP, decide
from bot.gates.auth_rules import authentication, explain, is_public, scopes_of
from bot.gates.owner_findings import OwnerFindings
from bot.gates.probe import DEFAULT_TIMEOUT_S, load_app_info
from bot.settings import Settings

NAME = "fastapi_auth"
NOT_IMPORTED = (
    "the app could not be imported ({error}), so its routes were read from the source and none "
    "could be probed"
)
STARTUP_FAILED = "the app's startup failed in the sandbox ({error}), so no route could be probed"
NO_ROUTES = (
    "no route of {app} was found besides FastAPI's own documentation, so authentication was not checked"
)
NAME_ONLY = "{n} route(s) are authenticated by name only, unprobed: {routes}"
EXPIRY_UNTESTED = (
    "{n} route(s) refused an expired token, but the app's signing key was not found, so that token "
    "was signed with another key and whether they check expiry was not verified"
)
FIX_EXPIRY = (
    "keep the signing key where the probe finds it: a settings field or module constant named like "
    "SECRET_KEY, JWT_SECRET or JWT_SECRET_KEY, or an environment variable of such a name (set with "
    "`test-env` or listed in `.env.example`)"
)
FIX_APP = "set `app: module:attribute` (and `app-directory`) in .github/specship.yml to the app to judge"


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
    explanation: str = ""  # why the auth dependency counts: the chain down to its scheme
    probe: str = ""  # what the behavioural probe got, or why it did not run
    protected: bool | None = None  # the verdict: None when it could not be decided

    def as_dict(self) -> dict[str, object]:
        row = asdict(self)
        row["scopes"] = list(self.scopes)
        return row


def _row(route: RouteInfo, method: str, info: AppInfo, settings: Settings) -> RouteRow:
    auth = authentication(route, settings.auth_dependencies)
    return RouteRow(
        method=method,
        path=route.path,
        auth=auth.name if auth else "",
        public=is_public(route, method, settings.public_routes),
        owner_scoped=None,
        file=route.file,
        line=route.line,
        source=info.source,
        scopes=scopes_of(auth) if auth else (),
        endpoint=route.endpoint,
        explanation=explain(auth, settings.auth_dependencies) if auth else "",
    )


def route_table(info: AppInfo, settings: Settings) -> list[RouteRow]:
    """One row per (method, path), without the gate's verdicts (owner scoping, probe)."""
    rows = [_row(r, m, info, settings) for r in info.routes for m in r.methods]
    return sorted(rows, key=lambda r: (r.path, r.method))


def _fix(rows: Sequence[RouteRow]) -> str:
    used = Counter(r.auth for r in rows if r.auth)
    return used.most_common(1)[0][0] if used else "get_current_user_id"


def _gaps(info: AppInfo, user_routes: int) -> list[Unverified]:
    """What keeps the whole table from being trusted: the import, the probe, the reader, the app."""
    gaps = [Unverified(u.why, FIX_IMPORT, u.file, u.line, "unresolved") for u in info.unresolved]
    if info.source == "static" and info.app:
        gaps.append(
            Unverified(
                NOT_IMPORTED.format(error=info.error or "unknown error"), FIX_IMPORT, rule="import-failed"
            )
        )
    elif info.probe is not None and info.probe.startup_error:
        gaps.append(
            Unverified(
                STARTUP_FAILED.format(error=info.probe.startup_error), FIX_STARTUP, rule="startup-failed"
            )
        )
    if not info.routes and info.error and not info.app:
        gaps.append(Unverified(info.error, FIX_APP, rule="no-app"))  # none found, or two could be it
    elif not user_routes:
        gaps.append(Unverified(NO_ROUTES.format(app=info.app or "the app"), FIX_APP, rule="no-routes"))
    return gaps


def gate(ctx: GateContext, info: AppInfo | None = None, *, timeout: float = DEFAULT_TIMEOUT_S) -> GateResult:
    """Every route not listed in public-routes must refuse requests without valid credentials."""
    started = time.monotonic()
    info = info if info is not None else load_app_info(ctx, timeout)
    settings = ctx.settings
    findings: list[Finding] = []
    user_routes = [r for r in info.routes if not r.docs]
    unverified = _gaps(info, len(user_routes))
    owner = OwnerFindings(ctx)
    fix = _fix(route_table(info, settings))
    table: list[RouteRow] = []
    by_name_only: list[str] = []
    for route in info.routes:
        scoped = owner.route(route)
        for method in route.methods:
            row = replace(_row(route, method, info, settings), owner_scoped=scoped)
            if row.public:
                table.append(replace(row, probe="public: not probed"))
                continue
            decision = decide(
                route, method, named=row.auth, explanation=row.explanation, probe=info.probe, fix=fix
            )
            table.append(replace(row, probe=decision.probe, protected=decision.protected))
            if decision.finding is not None:
                findings.append(decision.finding)
            if decision.unverified is not None:
                if decision.unverified.rule == "not-probed" and info.source == "static":
                    by_name_only.append(f"{method} {route.path}")  # one gap says it for all of them
                else:
                    unverified.append(decision.unverified)
    probe = info.probe
    refused = sum(1 for r in table if r.protected)
    if refused and probe is not None and probe.decodes_jwt and not probe.expired_key:
        unverified.append(Unverified(EXPIRY_UNTESTED.format(n=refused), FIX_EXPIRY, rule="expiry-untested"))
    if by_name_only:
        unverified.append(
            Unverified(
                NAME_ONLY.format(n=len(by_name_only), routes=", ".join(by_name_only[:8])),
                FIX_IMPORT,
                rule="not-probed",
            )
        )
    findings += owner.findings
    table.sort(key=lambda r: (r.path, r.method))
    return GateResult(
        NAME,
        _summary(table, info),
        tuple(findings),
        seconds=time.monotonic() - started,
        details={
            "routes": [r.as_dict() for r in table],
            "method": info.source,
            "error": info.error,
            "app": info.app,
            "expired_token_key": info.probe.expired_key if info.probe else "",
        },
        unverified=tuple(unverified),
    )


def _summary(table: list[RouteRow], info: AppInfo) -> str:
    how = (
        "imported and probed"
        if info.source == "import" and info.probe
        else "static analysis; the app did not import"
    )
    if info.source == "import" and not info.probe:
        how = "imported"
    protected = sum(1 for r in table if r.protected)
    return (
        f"{len(table)} routes ({how}): {protected} refused every probe, "
        f"{sum(1 for r in table if r.public)} public, {sum(1 for r in table if r.protected is False)} "
        f"unauthenticated, {sum(1 for r in table if r.protected is None and not r.public)} undecided; "
        f"{sum(1 for r in table if r.owner_scoped)} owner-scoped, "
        f"{sum(1 for r in table if r.owner_scoped is False)} with unscoped queries"
    )
