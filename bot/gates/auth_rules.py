"""Which routes are public (the allow-list, FastAPI's docs) and which dependencies authenticate."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.gates.app_model import DependencyInfo, RouteInfo


def _path_regex(pattern: str) -> re.Pattern[str]:
    """`*` matches one path segment (or part of one), a final `**` any suffix, including none."""
    segments = [s for s in pattern.split("/") if s]
    parts = []
    for index, segment in enumerate(segments):
        if segment == "**" and index == len(segments) - 1:
            parts.append("(?:/.*)?")
        elif segment == "*":
            parts.append("/[^/]+")
        else:
            parts.append("/" + re.escape(segment).replace(r"\*", "[^/]*"))
    return re.compile("^" + ("".join(parts) or "/?") + "/?$")


def matches_public(patterns: Iterable[str], method: str, path: str) -> str | None:
    """The first public-routes pattern (`METHOD /path` or `/path`) that covers this route."""
    for pattern in patterns:
        verb, _, where = pattern.strip().rpartition(" ")
        if verb and verb not in ("*", method):
            continue
        if _path_regex(where).match(path):
            return pattern
    return None


def is_public(route: RouteInfo, method: str, patterns: Iterable[str]) -> bool:
    """Listed in public-routes, or one of FastAPI's own documentation routes (wherever docs_url puts
    them: they describe the API, they serve no data). A route of the app's own at /docs is not."""
    return route.docs or matches_public(patterns, method, route.path) is not None


def names_auth(dependency: DependencyInfo, auth_names: Iterable[str]) -> bool:
    """A dependency named in auth-dependencies, by simple name, qualified name or its dotted tail."""
    qualname = dependency.qualname
    return any(
        name in (dependency.name, qualname) or (qualname.endswith("." + name) and "." in name)
        for name in auth_names
    )


def _authenticating(node: DependencyInfo, names: tuple[str, ...], optional: bool = False) -> bool:
    # A scheme with auto_error=False lets a request without credentials through: alone it proves nothing.
    return (node.security is not None and (optional or not node.optional)) or names_auth(node, names)


def authenticates(dependency: DependencyInfo, auth_names: Iterable[str], *, optional: bool = False) -> bool:
    """It is, or depends (at any depth) on, a fastapi.security scheme or a configured auth dependency.

    optional=True also counts schemes with auto_error=False: the user they identify, when there is one.
    """
    names = tuple(auth_names)
    return any(_authenticating(d, names, optional) for d in dependency.walk())


def authentication(
    route: RouteInfo, auth_names: Iterable[str], *, optional: bool = True
) -> DependencyInfo | None:
    """The first of the route's dependencies (router ones first, as FastAPI runs them) that authenticates.

    By name only: the behavioural probe decides whether it really refuses bad credentials.
    """
    names = tuple(auth_names)
    return next((d for d in route.dependencies if authenticates(d, names, optional=optional)), None)


def explain(dependency: DependencyInfo, auth_names: Iterable[str]) -> str:
    """Why a dependency counts as authentication: the chain down to the scheme or the configured name."""
    names = tuple(auth_names)

    def chain(node: DependencyInfo) -> list[str] | None:
        label = node.name + (" (auto_error=False)" if node.optional else "")
        if names_auth(node, names):
            return [f"{label} (auth-dependencies)"]
        if node.security is not None:
            return [label]
        for child in node.children:
            found = chain(child)
            if found is not None:
                return [label, *found]
        return None

    found = chain(dependency) or [dependency.name]
    return " → ".join(found)


def scopes_of(dependency: DependencyInfo, inherited: tuple[str, ...] = ()) -> tuple[str, ...]:
    """OAuth2 scopes required on the way to its security schemes (Security(..., scopes=...))."""
    here = inherited + tuple(s for s in dependency.scopes if s not in inherited)
    found = here if dependency.security is not None else ()
    for child in dependency.children:
        found += tuple(s for s in scopes_of(child, here) if s not in found)
    return found
