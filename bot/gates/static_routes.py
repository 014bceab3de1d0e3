"""The app's route table read from its source with `ast` (the fallback when it cannot be imported)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.gates import GateContext
from bot.gates.app_model import AppInfo, AppLocation, RouteInfo
from bot.gates.app_source import FUNCS
from bot.gates.static_deps import DependencyReader
from bot.gates.static_index import (
    DOCS_ROUTES,
    HTTP_VERBS,
    Module,
    Ref,
    Router,
    Scope,
    StaticRoute,
    blocks,
    import_bindings,
)


def static_app_info(ctx: GateContext, location: AppLocation, error: str | None = None) -> AppInfo:
    """The route table read from the source (the fallback when the app cannot be imported)."""
    return AppInfo(SourceIndex(ctx.app_dir, ctx.repo).routes(location), None, error, "static", location.spec)


class SourceIndex(DependencyReader):
    """The app's modules, resolved names, routers and dependencies: what registering statements do."""

    # -- execution: what registering statements do to routers --------------------------------------
    def execute_module(self, module: Module) -> None:
        if module.name in self._executed:
            return
        self._executed.add(module.name)
        for name in module.imported:
            parts = name.split(".")
            for cut in range(1, len(parts) + 1):
                imported = self.module(".".join(parts[:cut]))
                if imported is not None:
                    self.execute_module(imported)
        self.execute(module, module.tree.body, None, [], depth=0, owner=module.name)

    def execute(
        self, module: Module, body: list[ast.stmt], scope: Scope | None, returned: list[Ref | None], *,
        depth: int, owner: str,
    ) -> None:  # fmt: skip
        for node in body:
            if isinstance(node, FUNCS):
                ref = Ref("def", module, node, f"{owner}.<locals>.{node.name}" if scope is not None else "")
                if scope is not None:
                    scope[node.name] = ref
                else:
                    ref.dotted = f"{module.name}.{node.name}"
                for decorator in node.decorator_list:
                    self._decorator(module, decorator, ref, scope, depth)
            elif (
                isinstance(node, ast.Assign | ast.AnnAssign) and scope is not None and node.value is not None
            ):
                value = self.evaluate(module, node.value, scope, depth + 1)
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        scope[target.id] = value
            elif isinstance(node, ast.Import | ast.ImportFrom) and scope is not None:
                for name, (_, (source, attr)) in import_bindings(module, node):
                    scope[name] = self.import_ref(source, attr, depth + 1)
                    if (imported := scope[name]) is not None and imported.module is not None:
                        self.execute_module(imported.module)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                self._statement_call(module, node.value, scope, depth)
            elif isinstance(node, ast.Return) and scope is not None:
                returned.append(self.evaluate(module, node.value, scope, depth + 1))
            elif isinstance(node, ast.ClassDef) and scope is not None:
                scope[node.name] = Ref("class", module, node, node.name)
            for block in blocks(node):
                self.execute(module, block, scope, returned, depth=depth, owner=owner)

    def router_for(self, module: Module, call: ast.Call, is_app: bool, scope: Scope | None) -> Router:
        if id(call) in self._routers:
            return self._routers[id(call)]
        kwargs = {k.arg: k.value for k in call.keywords if k.arg}
        docs: list[tuple[str, str]] = []
        if is_app:
            urls = {key: self.string(module, kwargs[key], scope) if key in kwargs else default
                    for key, default, _ in DOCS_ROUTES}  # fmt: skip
            # FastAPI.setup(): docs need the OpenAPI URL; the OAuth2 redirect page needs docs_url.
            if urls["openapi_url"]:
                docs = [(urls["openapi_url"], "openapi")]
                if urls["docs_url"]:
                    docs.append((urls["docs_url"], "swagger_ui_html"))
                    if urls["swagger_ui_oauth2_redirect_url"]:
                        docs.append((urls["swagger_ui_oauth2_redirect_url"], "swagger_ui_redirect"))
                if urls["redoc_url"]:
                    docs.append((urls["redoc_url"], "redoc_html"))
        prefix = "" if is_app else self.string(module, kwargs.get("prefix"), scope) or ""
        deps = self.dependency_list(module, kwargs.get("dependencies"), scope)
        router = Router(is_app, prefix, deps, docs, [], [])
        self._routers[id(call)] = router
        return router

    def _target_router(
        self, module: Module, expr: ast.expr | None, scope: Scope | None, depth: int
    ) -> Router | None:
        ref = self.evaluate(module, expr, scope, depth + 1)
        return ref.router if ref is not None else None

    def _decorator(
        self, module: Module, decorator: ast.expr, ref: Ref, scope: Scope | None, depth: int
    ) -> None:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
            return
        verb = decorator.func.attr
        if verb not in (*HTTP_VERBS, "api_route", "websocket", "route"):
            return
        router = self._target_router(module, decorator.func.value, scope, depth)
        if router is not None:
            self._register(router, module, verb, decorator, endpoint=ref, scope=scope)

    def _register(
        self,
        router: Router,
        module: Module,
        verb: str,
        call: ast.Call,
        *,
        endpoint: Ref | None,
        scope: Scope | None,
    ) -> None:
        kwargs = {k.arg: k.value for k in call.keywords if k.arg}
        path_expr = call.args[0] if call.args else kwargs.get("path")
        path = self.string(module, path_expr, scope)
        path = router.prefix + (path if path is not None else "/{?}")
        kind = "http"
        if verb in HTTP_VERBS:
            methods: list[str] = [verb.upper()]
        elif verb in ("websocket", "add_api_websocket_route"):
            kind, methods = "websocket", ["WEBSOCKET"]
        else:
            listed = kwargs.get("methods")
            methods = [
                m.upper()
                for m in (
                    [self.string(module, e, scope) for e in listed.elts]
                    if isinstance(listed, ast.List | ast.Tuple)
                    else ["GET"]
                )
                if m
            ]
            if verb in ("route", "add_route"):
                kind = "route"
                if "GET" in methods and "HEAD" in methods:
                    methods.remove("HEAD")  # Starlette adds HEAD to GET routes itself
        schema = kwargs.get("include_in_schema")
        visible = not (isinstance(schema, ast.Constant) and schema.value is False)
        deps = [] if kind == "route" else self.dependency_list(module, kwargs.get("dependencies"), scope)
        router.routes.append(
            StaticRoute(tuple(sorted(set(methods))), path, kind, module, endpoint, deps, visible)
        )

    def _statement_call(self, module: Module, call: ast.Call, scope: Scope | None, depth: int) -> None:
        func = call.func
        verb = func.attr if isinstance(func, ast.Attribute) else ""
        registering = ("include_router", "add_api_route", "add_api_websocket_route", "mount", "add_route")
        router = (
            self._target_router(module, func.value, scope, depth)
            if isinstance(func, ast.Attribute) and verb in registering
            else None
        )
        if router is None:
            self.evaluate(module, call, scope, depth + 1)  # an app function may register routes
            return
        kwargs = {k.arg: k.value for k in call.keywords if k.arg}
        if verb == "include_router":
            child = self._target_router(
                module, call.args[0] if call.args else kwargs.get("router"), scope, depth
            )
            if child is not None:
                prefix = self.string(module, kwargs.get("prefix"), scope) or ""
                deps = self.dependency_list(module, kwargs.get("dependencies"), scope)
                router.includes.append((child, prefix, deps))
        elif verb == "mount":
            path = self.string(module, call.args[0] if call.args else kwargs.get("path"), scope) or "/{?}"
            route = StaticRoute(("MOUNT",), (router.prefix + path).rstrip("/"), "mount", module, None, [])
            router.routes.append(route)
        else:
            endpoint_expr = call.args[1] if len(call.args) > 1 else kwargs.get("endpoint")
            endpoint = self.evaluate(module, endpoint_expr, scope, depth + 1)
            self._register(router, module, verb, call, endpoint=endpoint, scope=scope)

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
