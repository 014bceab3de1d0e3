"""What the gates know about the app: routes, their dependency trees, where the app lives."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class DependencyInfo:
    """One node of a route's dependency tree (FastAPI's Dependant, or its static equivalent)."""

    name: str
    qualname: str = ""
    param: str | None = None
    security: str | None = None  # the scheme name when this node is a fastapi.security scheme
    optional: bool = False  # a scheme with auto_error=False: it lets requests without credentials on
    scopes: tuple[str, ...] = ()  # the scopes of its own Security(..., scopes=[...])
    children: tuple[DependencyInfo, ...] = ()
    file: str | None = None
    line: int | None = None

    @property
    def has_security(self) -> bool:
        """It is, or depends at any depth on, a fastapi.security scheme."""
        return any(d.security is not None for d in self.walk())

    def walk(self) -> Iterator[DependencyInfo]:
        """This node and its sub-dependencies, depth first (the flattened tree)."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class RouteInfo:
    """One route with everything FastAPI runs before its endpoint."""

    methods: tuple[str, ...]
    path: str
    endpoint: str = ""
    file: str | None = None  # repository-relative
    line: int | None = None  # the line of `def`, past any decorator
    dependencies: tuple[DependencyInfo, ...] = ()
    kind: str = "http"  # http | websocket | route (plain Starlette) | mount | other
    docs: bool = False  # one of FastAPI's own /openapi.json, /docs, /docs/oauth2-redirect, /redoc
    include_in_schema: bool = True


@dataclass(frozen=True)
class ProbeAnswer:
    """How the app answered one probe request: its status, and whether the endpoint was reached."""

    status: int | None
    reached: bool
    error: str | None = None
    elsewhere: bool = False  # the request was routed to another route (this one is shadowed)

    @property
    def rejected(self) -> bool:
        return not self.reached and not self.elsewhere and self.status in (401, 403)

    def describe(self) -> str:
        if self.reached:
            return "reached the handler"
        if self.elsewhere:
            return self.error or "routed to another route"
        if self.status is not None:
            return str(self.status)
        return self.error or "no answer"


@dataclass(frozen=True)
class RouteProbe:
    """The probe requests sent to one method of one route (answers by probe label)."""

    method: str
    path: str
    url: str
    answers: dict[str, ProbeAnswer]
    skipped: str | None = None


@dataclass(frozen=True)
class AuthProbe:
    """The behavioural auth probe of the imported app: per (method, path), or why it could not run."""

    startup_error: str | None
    routes: dict[tuple[str, str], RouteProbe]
    expired_key: str = ""  # where the expired token's key came from; "" when the app's was not found
    decodes_jwt: bool = True  # whether the app loaded a JWT library (so expiry means something)


@dataclass(frozen=True)
class AppInfo:
    """What the gates know about the app, and whether it came from importing it or from its source."""

    routes: list[RouteInfo]
    openapi: dict[str, Any] | None
    error: str | None
    source: Literal["import", "static"]
    app: str = ""
    openapi_error: str | None = None
    probe: AuthProbe | None = None  # None: the probe never ran (the app was read from its source)
    unresolved: tuple[Unresolved, ...] = ()  # what the static reader could not follow


@dataclass(frozen=True)
class Unresolved:
    """A registration or name the static reader could not follow: its place and its text."""

    file: str | None
    line: int | None
    text: str
    why: str


@dataclass(frozen=True)
class AppLocation:
    """Where the app object lives: `module:attr`, called first when it is a factory."""

    module: str
    attr: str
    factory: bool = False

    @property
    def spec(self) -> str:
        return f"{self.module}:{self.attr}{'()' if self.factory else ''}"
