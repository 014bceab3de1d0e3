"""Reading the source as FastAPI would run it: routers, registering statements, loops, unknowns."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.gates.app_model import Unresolved
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

UNRESOLVED_ROUTER = "the router passed to `{text}` could not be resolved, so its routes were not read"
UNRESOLVED_TARGET = "`{text}` registers routes on an object that could not be resolved, so they were not read"
UNRESOLVED_VALUE = "`{text}` could not be resolved, so a path or prefix holds an unknown part"


def unknown(text: str) -> str:
    """What the reader puts where it cannot resolve a path part: never an empty string."""
    return "{?" + text.replace("{", "(").replace("}", ")")[:60] + "}"


class RouterReader(DependencyReader):
    """What registering statements do to routers, and what could not be followed."""

    def __init__(self, app_dir: Path, repo: Path | None = None) -> None:
        super().__init__(app_dir, repo)
        self.unresolved: list[Unresolved] = []
        self._noted: set[tuple[str, int, str]] = set()

    def note(self, module: Module, node: ast.AST, template: str) -> None:
        """Remember what could not be followed (once per place), for the gate's "not verified"."""
        text = ast.unparse(node)
        text = text if len(text) <= 80 else text[:77] + "..."
        line = getattr(node, "lineno", 0)
        key = (module.rel, line, template)
        if key not in self._noted:
            self._noted.add(key)
            self.unresolved.append(
                Unresolved(module.rel or None, line or None, text, template.format(text=text))
            )

    def path_part(self, module: Module, expr: ast.expr | None, scope: Scope | None, default: str = "") -> str:
        """A prefix or path the source spells out; unknown (never "") when it cannot be read."""
        if expr is None:
            return default
        text = self.string(module, expr, scope)
        if text is not None:
            return text
        self.note(module, expr, UNRESOLVED_VALUE)
        return unknown(ast.unparse(expr))

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
            if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
                self._loop(module, node, scope, returned, depth=depth, owner=owner)
                continue
            for block in blocks(node):
                self.execute(module, block, scope, returned, depth=depth, owner=owner)

    def _loop(
        self, module: Module, node: ast.For, scope: Scope | None, returned: list[Ref | None], *,
        depth: int, owner: str,
    ) -> None:  # fmt: skip
        """`for r in [admin, users]: app.include_router(r)`: the body once per listed item."""
        name = node.target.id if isinstance(node.target, ast.Name) else ""
        items = self._literal_items(module, node.iter, scope, depth)
        for item in items if items is not None else [None]:
            inner: Scope = dict(scope or {})
            inner[name] = self.evaluate(module, item, scope, depth + 1) if item is not None else None
            self.execute(module, node.body, inner, returned, depth=depth + 1, owner=owner)
            if scope is not None:
                scope.update({k: v for k, v in inner.items() if k != name})
        self.execute(module, node.orelse, scope, returned, depth=depth, owner=owner)

    def _literal_items(
        self, module: Module, expr: ast.expr, scope: Scope | None, depth: int
    ) -> list[ast.expr] | None:
        if isinstance(expr, ast.List | ast.Tuple | ast.Set):
            return list(expr.elts)
        ref = (
            self.evaluate(module, expr, scope, depth + 1)
            if isinstance(expr, ast.Name | ast.Attribute)
            else None
        )
        if ref is not None and ref.kind == "value" and isinstance(ref.node, ast.List | ast.Tuple | ast.Set):
            return list(ref.node.elts) if ref.module is module else None
        return None

    def router_for(self, module: Module, call: ast.Call, is_app: bool, scope: Scope | None) -> Router:
        if id(call) in self._routers:
            return self._routers[id(call)]
        kwargs = {k.arg: k.value for k in call.keywords if k.arg}
        docs: list[tuple[str, str]] = []
        if is_app:
            urls = {
                key: None
                if _is_none(kwargs.get(key))
                else self.path_part(module, kwargs.get(key), scope, default)
                for key, default, _ in DOCS_ROUTES
            }
            # FastAPI.setup(): docs need the OpenAPI URL; the OAuth2 redirect page needs docs_url.
            if urls["openapi_url"]:
                docs = [(urls["openapi_url"], "openapi")]
                if urls["docs_url"]:
                    docs.append((urls["docs_url"], "swagger_ui_html"))
                    if urls["swagger_ui_oauth2_redirect_url"]:
                        docs.append((urls["swagger_ui_oauth2_redirect_url"], "swagger_ui_redirect"))
                if urls["redoc_url"]:
                    docs.append((urls["redoc_url"], "redoc_html"))
        prefix = "" if is_app else self.path_part(module, kwargs.get("prefix"), scope)
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
        elif self.evaluate(module, decorator.func.value, scope, depth + 1) is None and _looks_like_path(
            decorator
        ):
            self.note(module, decorator, UNRESOLVED_TARGET)

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
        path = router.prefix + self.path_part(module, path_expr, scope, unknown("path"))
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
            target = func.value if verb == "include_router" and isinstance(func, ast.Attribute) else None
            if target is not None and self.evaluate(module, target, scope, depth + 1) is None:
                self.note(module, call, UNRESOLVED_TARGET)
            self.evaluate(module, call, scope, depth + 1)  # an app function may register routes
            return
        kwargs = {k.arg: k.value for k in call.keywords if k.arg}
        if verb == "include_router":
            child = self._target_router(
                module, call.args[0] if call.args else kwargs.get("router"), scope, depth
            )
            if child is None:
                self.note(module, call, UNRESOLVED_ROUTER)
            else:
                prefix = self.path_part(module, kwargs.get("prefix"), scope)
                deps = self.dependency_list(module, kwargs.get("dependencies"), scope)
                router.includes.append((child, prefix, deps))
        elif verb == "mount":
            path = self.path_part(
                module, call.args[0] if call.args else kwargs.get("path"), scope, unknown("path")
            )
            mounted = call.args[1] if len(call.args) > 1 else kwargs.get("app")
            sub_app = self._target_router(module, mounted, scope, depth) if mounted is not None else None
            route = StaticRoute(
                ("MOUNT",), (router.prefix + path).rstrip("/"), "mount", module, None, [], target=sub_app
            )
            router.routes.append(route)
        else:
            endpoint_expr = call.args[1] if len(call.args) > 1 else kwargs.get("endpoint")
            endpoint = self.evaluate(module, endpoint_expr, scope, depth + 1)
            self._register(router, module, verb, call, endpoint=endpoint, scope=scope)


def _is_none(expr: ast.expr | None) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def _looks_like_path(decorator: ast.Call) -> bool:
    """`@x.get("/items")`: a route decorator, not `@cache.get(key)` of something else."""
    first = (
        decorator.args[0]
        if decorator.args
        else next((k.value for k in decorator.keywords if k.arg == "path"), None)
    )
    return isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith("/")
