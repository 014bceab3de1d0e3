"""The app's route table read from its source with `ast` (the fallback when it cannot be imported)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.gates import GateContext
from bot.gates.app_model import AppInfo, AppLocation, RouteInfo
from bot.gates.static_index import Module, Router, Scope, StaticRoute
from bot.gates.static_registry import RouterReader, unknown

__all__ = ["SourceIndex", "static_app_info", "unknown"]


def static_app_info(ctx: GateContext, location: AppLocation, error: str | None = None) -> AppInfo:
    """The route table read from the source (the fallback when the app cannot be imported)."""
    index = SourceIndex(ctx.app_dir, ctx.repo)
    routes = index.routes(location)
    return AppInfo(routes, None, error, "static", location.spec, unresolved=tuple(index.unresolved))


class SourceIndex(RouterReader):
    """The app's modules, resolved names, routers and dependencies, and the route table they make."""

    # -- the route table -------------------------------------------------------------------------
    def app_router(self, location: AppLocation) -> Router | None:
        module = self.module(location.module)
        if module is None:
            return None
        self.execute_module(module)
        ref = self.resolve_name(module, location.attr)
        if ref is not None and ref.kind == "def" and ref.module is not None:
            ref = self.call_function(ref.module, ref.node, {})
        return ref.router if ref is not None else None

    def routes(self, location: AppLocation) -> list[RouteInfo]:
        app = self.app_router(location)
        if app is None:
            return []
        routes = [
            RouteInfo(("GET",), path, f"fastapi.applications.FastAPI.setup.<locals>.{name}", kind="route",
                      docs=True, include_in_schema=False)
            for path, name in app.docs
        ]  # fmt: skip
        for route, path, deps in self._flatten(app, "", [], []):
            endpoint = route.endpoint
            node = endpoint.node if endpoint is not None and endpoint.kind == "def" else None
            dependencies = [d for d in (self.depends(m, e, s) for m, e, s in deps) if d is not None]
            if (
                node is not None
                and endpoint is not None
                and endpoint.module is not None
                and route.kind != "route"
            ):
                dependencies += [d for _, d in self.parameters(endpoint.module, node)]
            routes.append(
                RouteInfo(
                    route.methods,
                    path,
                    endpoint.dotted if endpoint is not None else "",
                    endpoint.module.rel if node is not None and endpoint and endpoint.module else None,
                    node.lineno if node is not None else None,
                    tuple(dependencies),
                    route.kind,
                    include_in_schema=route.include_in_schema,
                )
            )
        return routes

    def _flatten(
        self, router: Router, prefix: str, deps: list[tuple[Module, ast.expr, Scope | None]], stack: list[int]
    ) -> Iterator[tuple[StaticRoute, str, list[tuple[Module, ast.expr, Scope | None]]]]:
        """Effective paths and dependencies, composed as FastAPI's include_router composes them."""
        if id(router) in stack:
            return
        own = deps + router.dependencies
        for route in router.routes:
            yield route, prefix + route.path, own + route.dependencies
        for child, include_prefix, include_deps in router.includes:
            yield from self._flatten(child, prefix + router.prefix + include_prefix, own + include_deps,
                                     [*stack, id(router)])  # fmt: skip
