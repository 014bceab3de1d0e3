"""Which object is the app: the one serving the most routes, factories followed, never a guess."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from bot.gates.app_model import AppLocation
from bot.gates.app_source import APP_CANDIDATES, FUNCS, constructs_app, python_files, source_bytes
from bot.gates.static_index import Router
from bot.gates.static_routes import SourceIndex

FACTORY_NAME = re.compile(r"(create|make|init|build|get|new)_?(fastapi_)?app(lication)?")
AMBIGUOUS = "{n} objects could be the app and none serves more routes than the others: {listed}"
NONE_FOUND = "no FastAPI app found under {where}/"


@dataclass(frozen=True)
class Detection:
    """The app to judge, or why there is none; every candidate with its number of routes."""

    location: AppLocation | None
    problem: str | None
    candidates: tuple[tuple[str, int], ...] = ()


def _calls_app_function(index: SourceIndex, module_name_: str, value: ast.expr) -> bool:
    if not isinstance(value, ast.Call):
        return False
    module = index.module(module_name_)
    callee = index.evaluate(module, value.func) if module is not None else None
    return callee is not None and (
        callee.kind == "def" or (callee.kind == "external" and callee.dotted.endswith("FastAPI"))
    )


def _factory(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A function without required arguments that builds an app (or is named and shaped like one)."""
    if len(node.args.args) + len(node.args.posonlyargs) > len(node.args.defaults):
        return False
    returns = any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(node))
    return constructs_app(node) or (returns and FACTORY_NAME.fullmatch(node.name) is not None)


def _words(words: set[str]) -> re.Pattern[bytes]:
    alternatives = b"|".join(re.escape(w.encode()) for w in sorted(words, key=len, reverse=True))
    return re.compile(rb"(?<!\w)(?:" + alternatives + rb")(?!\w)")


def _reachable(index: SourceIndex, paths: list[Path]) -> list[Path]:
    """The modules that can hold the app, found by reading, not parsing: those that name FastAPI,
    then, until none is added, those that name a module already in or a name one of them defines.

    An app is built by a FastAPI() call somewhere in the app's source, and a module that makes one
    from another module's function imports it by name; on a large repository, the modules that
    cannot be the app are never parsed.
    """
    texts = {path: source_bytes(path, index.root) for path in paths}
    chosen = {path for path, text in texts.items() if b"FastAPI" in text}
    fresh = set(chosen)
    while fresh:
        words: set[str] = set()
        for path in fresh:
            name = index.name_of(path)
            words.add(name.rpartition(".")[2])
            module = index.module(name)
            if module is not None:
                words |= {n for n, (kind, _) in module.bindings.items() if kind != "import"}
        words.discard("")
        pattern = _words(words) if words else None
        fresh = set() if pattern is None else {
            path for path, text in texts.items() if path not in chosen and pattern.search(text)
        }  # fmt: skip
        chosen |= fresh
    return [path for path in paths if path in chosen]


def _candidates(index: SourceIndex, app_dir: Path) -> list[AppLocation]:
    """Module-level `x = FastAPI(...)`/`x = make_app()` (any module's factory) and app factories."""
    paths = [app_dir / c for c in APP_CANDIDATES if (app_dir / c).is_file()]
    paths += [p for p in python_files(app_dir) if p not in paths]
    found: list[AppLocation] = []
    for path in _reachable(index, paths):
        name = index.name_of(path)
        module = index.module(name)
        if module is None:
            continue
        for node in module.tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if _calls_app_function(index, name, node.value):
                    found += [AppLocation(name, t.id) for t in targets if isinstance(t, ast.Name)]
            elif isinstance(node, FUNCS) and _factory(node):
                found.append(AppLocation(name, node.name, factory=True))
    return found


def _mounted(routers: list[Router]) -> set[int]:
    """Routers another app mounts or includes: a sub-app is never the app itself."""
    inside: set[int] = set()
    for router in routers:
        stack, seen = [router], set()
        while stack:
            current = stack.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            for route in current.routes:
                if route.target is not None:
                    inside.add(id(route.target))
                    stack.append(route.target)
            for child, _, _ in current.includes:
                stack.append(child)
    return inside


def detect_app(app_dir: Path, repo: Path, where: str) -> Detection:
    """The app object by the routes it serves; refuses when two serve as many."""
    index = SourceIndex(app_dir, repo)
    best: dict[int, tuple[AppLocation, Router, int]] = {}
    for location in _candidates(index, app_dir):
        router = index.app_router(location)
        if router is None or not router.is_app:
            continue
        count = sum(1 for route in index.routes(location) if not route.docs)
        known = best.get(id(router))
        if known is None or (known[0].factory and not location.factory):
            best[id(router)] = (location, router, count)  # the same app: prefer the plain attribute
    inside = _mounted([router for _, router, _ in best.values()])
    ranked = sorted((c for c in best.values() if id(c[1]) not in inside), key=lambda c: -c[2])
    listed = tuple((location.spec, count) for location, _, count in ranked)
    if not ranked:
        return Detection(None, NONE_FOUND.format(where=where), listed)
    if len(ranked) > 1 and ranked[0][2] == ranked[1][2]:
        ties = [f"{spec} ({count} routes)" for spec, count in listed if count == ranked[0][2]]
        return Detection(None, AMBIGUOUS.format(n=len(ties), listed=", ".join(ties)), listed)
    return Detection(ranked[0][0], None, listed)
