"""The app's route table read from its source with `ast` (the fallback when it cannot be imported)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.gates import GateContext
from bot.gates.probe import (
    _FUNCS,
    AppInfo,
    AppLocation,
    DependencyInfo,
    RouteInfo,
    _module_name,
    _parse,
    _python_files,
)

MAX_DEPTH = 40
HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")
PARAM_FUNCTIONS = frozenset(
    {"Depends", "Security", "Query", "Path", "Body", "Header", "Cookie", "Form", "File"}
)
SECURITY_CLASSES = frozenset(
    {"SecurityBase", "HTTPBase", "HTTPBearer", "HTTPBasic", "HTTPDigest", "OAuth2", "OAuth2PasswordBearer",
     "OAuth2AuthorizationCodeBearer", "OpenIdConnect", "APIKeyHeader", "APIKeyQuery", "APIKeyCookie"}
)  # fmt: skip
DOCS_ROUTES = (
    ("openapi_url", "/openapi.json", "openapi"),
    ("docs_url", "/docs", "swagger_ui_html"),
    ("swagger_ui_oauth2_redirect_url", "/docs/oauth2-redirect", "swagger_ui_redirect"),
    ("redoc_url", "/redoc", "redoc_html"),
)
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def static_app_info(ctx: GateContext, location: AppLocation, error: str | None = None) -> AppInfo:
    """The route table read from the source (the fallback when the app cannot be imported)."""
    return AppInfo(SourceIndex(ctx.app_dir, ctx.repo).routes(location), None, error, "static", location.spec)


class Module:
    """One parsed module of the app and its top-level names (the last binding of each wins)."""

    def __init__(self, name: str, path: Path | None, rel: str, tree: ast.Module, package: bool) -> None:
        self.name = name
        self.path = path
        self.rel = rel
        self.tree = tree
        self.package = name if package else name.rpartition(".")[0]
        self.bindings: dict[str, tuple[str, Any]] = {}
        self.star_imports: list[str] = []
        self.imported: list[str] = []
        self._collect(tree.body)

    def absolute(self, module: str | None, level: int) -> str:
        if not level:
            return module or ""
        base = self.package.split(".") if self.package else []
        base = base[: len(base) - (level - 1)] if level > 1 else base
        return ".".join([*base, *([module] if module else [])])

    def _collect(self, body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, _FUNCS):
                self.bindings[node.name] = ("def", node)
            elif isinstance(node, ast.ClassDef):
                self.bindings[node.name] = ("class", node)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.bindings[target.id] = ("value", node.value)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                if isinstance(node.target, ast.Name):
                    self.bindings[node.target.id] = ("value", node.value)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                for name, binding in import_bindings(self, node):
                    self.bindings[name] = binding
            elif isinstance(node, ast.If | ast.Try | ast.With):
                for block in _blocks(node):
                    self._collect(block)


def import_bindings(module: Module, node: ast.Import | ast.ImportFrom) -> list[tuple[str, tuple[str, Any]]]:
    """The names an import statement binds, each as ('import', (module, attribute or None))."""
    found: list[tuple[str, tuple[str, Any]]] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                found.append((alias.asname, ("import", (alias.name, None))))
            else:
                top = alias.name.split(".")[0]
                found.append((top, ("import", (top, None))))
            module.imported.append(alias.name)
        return found
    source = module.absolute(node.module, node.level)
    module.imported.append(source)
    for alias in node.names:
        if alias.name == "*":
            module.star_imports.append(source)
            continue
        found.append((alias.asname or alias.name, ("import", (source, alias.name))))
        module.imported.append(f"{source}.{alias.name}")
    return found


def _blocks(node: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(node, ast.Try):
        return [node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody]
    if isinstance(node, ast.If | ast.For | ast.AsyncFor | ast.While):
        return [node.body, node.orelse]
    if isinstance(node, ast.With | ast.AsyncWith):
        return [node.body]
    if isinstance(node, ast.Match):
        return [case.body for case in node.cases]
    return []


@dataclass(eq=False)
class Ref:
    """What an expression stands for, as far as reading the source can tell."""

    kind: Literal["module", "def", "class", "external", "value", "router", "instance"]
    module: Module | None = None
    node: Any = None  # FunctionDef / ClassDef / the expression / the constructor call
    dotted: str = ""  # external: the imported dotted name; def: the qualified name
    router: Router | None = None
    cls: Ref | None = None  # instance: the class (an app class, or an external one)


@dataclass(eq=False)
class StaticRoute:
    methods: tuple[str, ...]
    path: str
    kind: str
    module: Module
    endpoint: Ref | None
    dependencies: list[tuple[Module, ast.expr, dict[str, Ref | None] | None]]
    include_in_schema: bool = True


@dataclass(eq=False)
class Router:
    """A FastAPI() or APIRouter() the source creates, with what is registered on it."""

    is_app: bool
    prefix: str
    dependencies: list[tuple[Module, ast.expr, dict[str, Ref | None] | None]]
    docs: list[tuple[str, str]]
    routes: list[StaticRoute]
    includes: list[tuple[Router, str, list[tuple[Module, ast.expr, dict[str, Ref | None] | None]]]]


Scope = dict[str, "Ref | None"]


class SourceIndex:
    """The app's modules, resolved names, routers and dependencies, from `ast` alone."""

    def __init__(self, app_dir: Path, repo: Path | None = None) -> None:
        self.root = app_dir.resolve()
        self.repo = (repo or app_dir).resolve()
        self._modules: dict[str, Module | None] = {}
        self._resolving: set[tuple[str, str]] = set()
        self._routers: dict[int, Router] = {}
        self._calls: dict[tuple[int, ...], Ref | None] = {}
        self._executed: set[str] = set()
        self._walking: set[int] = set()

    # -- modules ----------------------------------------------------------------------------------
    def module(self, name: str) -> Module | None:
        if name in self._modules:
            return self._modules[name]
        self._modules[name] = None
        if not name or not all(part.isidentifier() for part in name.split(".")):
            return None
        base = self.root.joinpath(*name.split("."))
        found: Module | None = None
        for path, package in ((base.with_suffix(".py"), False), (base / "__init__.py", True)):
            real = path.resolve()
            if path.is_file() and real.is_relative_to(self.root):
                tree = _parse(real, self.root)
                if tree is not None:
                    found = Module(name, real, self.relative(real), tree, package)
                    break
        if found is None and base.is_dir() and base.resolve().is_relative_to(self.root):
            found = Module(name, None, "", ast.Module(body=[], type_ignores=[]), True)  # namespace package
        self._modules[name] = found
        return found

    def relative(self, path: Path) -> str:
        base = self.repo if path.is_relative_to(self.repo) else self.root
        return path.relative_to(base).as_posix()

    def modules(self) -> Iterator[Module]:
        """Every module of the app (tests, migrations and virtualenvs left out)."""
        for path in _python_files(self.root):
            found = self.module(_module_name(path.relative_to(self.root)))
            if found is not None and found.path is not None:
                yield found

    def module_for_file(self, rel: str) -> Module | None:
        path = (self.repo / rel).resolve()
        if not path.is_relative_to(self.root) or path.suffix != ".py":
            return None
        return self.module(_module_name(path.relative_to(self.root)))

    # -- names ------------------------------------------------------------------------------------
    def resolve_name(
        self, module: Module, name: str, scope: Scope | None = None, depth: int = 0
    ) -> Ref | None:
        if scope is not None and name in scope:
            return scope[name]
        binding = module.bindings.get(name)
        if binding is None:
            for source in module.star_imports:
                target = self.module(source)
                if target is None:
                    return Ref("external", dotted=f"{source}.{name}")
                if name in target.bindings:
                    return self.resolve_name(target, name, None, depth + 1)
            return None
        kind, value = binding
        if kind == "def":
            return Ref("def", module, value, f"{module.name}.{value.name}")
        if kind == "class":
            return Ref("class", module, value, f"{module.name}.{value.name}")
        if kind == "import":
            return self._import(value[0], value[1], depth)
        key = (module.name, name)
        if key in self._resolving or depth > MAX_DEPTH:
            return None
        self._resolving.add(key)
        try:
            return self.evaluate(module, value, None, depth + 1)
        finally:
            self._resolving.discard(key)

    def _import(self, source: str, attr: str | None, depth: int) -> Ref | None:
        if attr is None:
            target = self.module(source)
            return Ref("module", target) if target is not None else Ref("external", dotted=source)
        sub = self.module(f"{source}.{attr}")
        if sub is not None:
            return Ref("module", sub)
        target = self.module(source)
        if target is None:
            return Ref("external", dotted=f"{source}.{attr}")
        return self.resolve_name(target, attr, None, depth + 1)

    def evaluate(
        self, module: Module, expr: ast.expr | None, scope: Scope | None = None, depth: int = 0
    ) -> Ref | None:
        """What `expr` refers to; calls of app functions are interpreted (routers they build count)."""
        if expr is None or depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Name):
            return self.resolve_name(module, expr.id, scope, depth)
        if isinstance(expr, ast.Attribute):
            base = self.evaluate(module, expr.value, scope, depth + 1)
            if base is None:
                return None
            if base.kind == "module" and base.module is not None:
                found = self.resolve_name(base.module, expr.attr, None, depth + 1)
                sub = self.module(f"{base.module.name}.{expr.attr}") if found is None else None
                return Ref("module", sub) if sub is not None else found
            if base.kind == "external":
                return Ref("external", dotted=f"{base.dotted}.{expr.attr}")
            if base.kind == "router" and expr.attr == "router":
                return base  # FastAPI.router is the app's own APIRouter
            return None
        if isinstance(expr, ast.Call):
            return self._evaluate_call(module, expr, scope, depth)
        return Ref("value", module, expr)

    def _evaluate_call(self, module: Module, call: ast.Call, scope: Scope | None, depth: int) -> Ref | None:
        func = self.evaluate(module, call.func, scope, depth + 1)
        if func is None:
            return None
        if func.kind == "external":
            last = func.dotted.rpartition(".")[2]
            if last in ("FastAPI", "APIRouter") and func.dotted.startswith(("fastapi", "?")):
                return Ref(
                    "router", module, call, router=self._router(module, call, last == "FastAPI", scope)
                )
            return Ref("instance", module, call, func.dotted, cls=func)
        if func.kind == "class":
            return Ref("instance", module, call, func.dotted, cls=func)
        if func.kind == "def" and func.module is not None:
            args = self._arguments(module, func.node, call, scope, depth)
            return self.call_function(func.module, func.node, args, depth + 1)
        return None

    def _arguments(
        self, module: Module, node: FunctionNode, call: ast.Call, scope: Scope | None, depth: int
    ) -> Scope:
        params = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
        bound: Scope = {}
        for name, arg in zip(params, call.args, strict=False):
            bound[name] = self.evaluate(module, arg, scope, depth + 1)
        for keyword in call.keywords:
            if keyword.arg:
                bound[keyword.arg] = self.evaluate(module, keyword.value, scope, depth + 1)
        return bound

    def call_function(self, module: Module, node: FunctionNode, args: Scope, depth: int = 0) -> Ref | None:
        """Interpret an app function's body once per set of router arguments; its return value."""
        key = (id(node), *sorted(id(r.router) for r in args.values() if r is not None and r.router))
        if key in self._calls or depth > MAX_DEPTH:
            return self._calls.get(key)
        self._calls[key] = None
        scope: Scope = dict(args)
        returned: list[Ref | None] = []
        self.execute(module, node.body, scope, returned, depth=depth + 1, owner=f"{module.name}.{node.name}")
        result = next((r for r in returned if r is not None), None)
        self._calls[key] = result
        return result

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
            if isinstance(node, _FUNCS):
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
                    scope[name] = self._import(source, attr, depth + 1)
                    if (imported := scope[name]) is not None and imported.module is not None:
                        self.execute_module(imported.module)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                self._statement_call(module, node.value, scope, depth)
            elif isinstance(node, ast.Return) and scope is not None:
                returned.append(self.evaluate(module, node.value, scope, depth + 1))
            elif isinstance(node, ast.ClassDef) and scope is not None:
                scope[node.name] = Ref("class", module, node, node.name)
            for block in _blocks(node):
                self.execute(module, block, scope, returned, depth=depth, owner=owner)

    def _router(self, module: Module, call: ast.Call, is_app: bool, scope: Scope | None) -> Router:
        if id(call) in self._routers:
            return self._routers[id(call)]
        kwargs = {k.arg: k.value for k in call.keywords if k.arg}
        docs: list[tuple[str, str]] = []
        if is_app:
            urls = {key: self._string(module, kwargs[key], scope) if key in kwargs else default
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
        prefix = "" if is_app else self._string(module, kwargs.get("prefix"), scope) or ""
        deps = self._dependency_list(module, kwargs.get("dependencies"), scope)
        router = Router(is_app, prefix, deps, docs, [], [])
        self._routers[id(call)] = router
        return router

    def _string(
        self, module: Module, expr: ast.expr | None, scope: Scope | None, depth: int = 0
    ) -> str | None:
        """A string the source spells out (constants, names bound to them, f-strings of them)."""
        if expr is None or depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Constant):
            return expr.value if isinstance(expr.value, str) else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left = self._string(module, expr.left, scope, depth + 1)
            right = self._string(module, expr.right, scope, depth + 1)
            return left + right if left is not None and right is not None else None
        if isinstance(expr, ast.JoinedStr):
            parts = []
            for value in expr.values:
                inner = value.value if isinstance(value, ast.FormattedValue) else value
                text = self._string(module, inner, scope, depth + 1)
                if text is None:
                    return None
                parts.append(text)
            return "".join(parts)
        ref = (
            self.evaluate(module, expr, scope, depth + 1)
            if isinstance(expr, ast.Name | ast.Attribute)
            else None
        )
        if ref is not None and ref.kind == "value" and ref.module is not None:
            return self._string(ref.module, ref.node, None, depth + 1)
        return None

    def _dependency_list(
        self, module: Module, expr: ast.expr | None, scope: Scope | None, depth: int = 0
    ) -> list[tuple[Module, ast.expr, Scope | None]]:
        if expr is None or depth > MAX_DEPTH:
            return []
        if isinstance(expr, ast.List | ast.Tuple):
            return [(module, item, scope) for item in expr.elts]
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return self._dependency_list(module, expr.left, scope, depth + 1) + self._dependency_list(
                module, expr.right, scope, depth + 1
            )
        ref = (
            self.evaluate(module, expr, scope, depth + 1)
            if isinstance(expr, ast.Name | ast.Attribute)
            else None
        )
        if ref is not None and ref.kind == "value" and ref.module is not None:
            return self._dependency_list(ref.module, ref.node, None, depth + 1)
        return []

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
        path = self._string(module, path_expr, scope)
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
                    [self._string(module, e, scope) for e in listed.elts]
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
        deps = [] if kind == "route" else self._dependency_list(module, kwargs.get("dependencies"), scope)
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
                prefix = self._string(module, kwargs.get("prefix"), scope) or ""
                deps = self._dependency_list(module, kwargs.get("dependencies"), scope)
                router.includes.append((child, prefix, deps))
        elif verb == "mount":
            path = self._string(module, call.args[0] if call.args else kwargs.get("path"), scope) or "/{?}"
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

    # -- dependencies ----------------------------------------------------------------------------
    def param_function(self, module: Module, expr: ast.expr, scope: Scope | None = None) -> str:
        """`Depends`, `Security`, `Query`, ... when `expr` calls one of FastAPI's parameter functions."""
        if not isinstance(expr, ast.Call):
            return ""
        ref = self.evaluate(module, expr.func, scope)
        dotted = ref.dotted if ref is not None and ref.kind == "external" else ""
        if not dotted and ref is None and isinstance(expr.func, ast.Name):
            dotted = f"?.{expr.func.id}"  # unresolvable (a star import of fastapi, say)
        last = dotted.rpartition(".")[2]
        return last if last in PARAM_FUNCTIONS and dotted.startswith(("fastapi", "?")) else ""

    def depends(
        self, module: Module, call: ast.expr, scope: Scope | None = None, *,
        annotation: ast.expr | None = None, param: str | None = None, depth: int = 0,
    ) -> DependencyInfo | None:  # fmt: skip
        """The dependency a `Depends(x)` / `Security(x, scopes=[...])` call declares."""
        kind = self.param_function(module, call, scope)
        if kind not in ("Depends", "Security") or not isinstance(call, ast.Call):
            return None
        kwargs = {k.arg: k.value for k in call.keywords if k.arg}
        target = call.args[0] if call.args else kwargs.get("dependency") or annotation
        scopes: tuple[str, ...] = ()
        listed = kwargs.get("scopes")
        if isinstance(listed, ast.List | ast.Tuple):
            scopes = tuple(s for s in (self._string(module, e, scope) for e in listed.elts) if s)
        info = self.callable_info(module, target, scope, depth)
        return DependencyInfo(info.name, info.qualname, param, info.security, scopes, info.children,
                              info.file, info.line)  # fmt: skip

    def callable_info(
        self, module: Module, expr: ast.expr | None, scope: Scope | None, depth: int
    ) -> DependencyInfo:
        """Name, security scheme and sub-dependencies of whatever FastAPI would call for `expr`."""
        ref = self.evaluate(module, expr, scope) if expr is not None else None
        text = ast.unparse(expr) if expr is not None else "?"
        if ref is None or depth > MAX_DEPTH:
            return DependencyInfo(text.rpartition(".")[2], text)
        if ref.kind == "def" and ref.module is not None:
            return DependencyInfo(
                ref.node.name, ref.dotted or f"{ref.module.name}.{ref.node.name}",
                children=tuple(d for _, d in self.parameters(ref.module, ref.node, depth=depth + 1)),
                file=ref.module.rel, line=ref.node.lineno,
            )  # fmt: skip
        if ref.kind == "class" and ref.module is not None:
            init = self.method(ref, "__init__", depth)
            children = tuple(d for _, d in self.parameters(init[0], init[1], True, depth + 1)) if init else ()
            return DependencyInfo(ref.node.name, ref.dotted, children=children, file=ref.module.rel,
                                  line=ref.node.lineno)  # fmt: skip
        if ref.kind == "instance" and ref.cls is not None:
            return self._instance(ref, depth)
        if ref.kind == "external":
            return DependencyInfo(ref.dotted.rpartition(".")[2], ref.dotted)
        return DependencyInfo(text.rpartition(".")[2], text)

    def _instance(self, ref: Ref, depth: int) -> DependencyInfo:
        cls = ref.cls
        if cls is None:
            return DependencyInfo("?")
        call = ref.node if isinstance(ref.node, ast.Call) else None
        scheme_kw = next((k.value for k in call.keywords if k.arg == "scheme_name"), None) if call else None
        scheme = self._string(ref.module, scheme_kw, None) if ref.module and scheme_kw is not None else None
        if cls.kind == "external":
            last = cls.dotted.rpartition(".")[2]
            if cls.dotted.startswith("fastapi.security") or (
                cls.dotted.startswith("?") and last in SECURITY_CLASSES
            ):
                name = scheme or last
                return DependencyInfo(name, cls.dotted, security=name)
            return DependencyInfo(last, cls.dotted)
        if self.is_security_class(cls, depth):
            name = scheme or cls.node.name
            where = cls.module.rel if cls.module else None
            return DependencyInfo(name, cls.dotted, security=name, file=where, line=cls.node.lineno)
        found = self.method(cls, "__call__", depth)
        children = tuple(d for _, d in self.parameters(found[0], found[1], True, depth + 1)) if found else ()
        return DependencyInfo(cls.node.name, cls.dotted, children=children,
                              file=cls.module.rel if cls.module else None, line=cls.node.lineno)  # fmt: skip

    def _bases(self, cls: Ref) -> Iterator[Ref]:
        if cls.module is None or not isinstance(cls.node, ast.ClassDef):
            return
        for base in cls.node.bases:
            found = self.evaluate(cls.module, base)
            if found is not None:
                yield found

    def is_security_class(self, cls: Ref, depth: int = 0) -> bool:
        """An app class deriving (at any distance) from a fastapi.security scheme class."""
        if depth > MAX_DEPTH:
            return False
        for base in self._bases(cls):
            if base.kind == "external" and base.dotted.startswith("fastapi.security"):
                return True
            if base.kind == "class" and self.is_security_class(base, depth + 1):
                return True
        return False

    def method(self, cls: Ref, name: str, depth: int = 0) -> tuple[Module, FunctionNode] | None:
        """A method defined by an app class or one of its app base classes."""
        if depth > MAX_DEPTH or cls.module is None or not isinstance(cls.node, ast.ClassDef):
            return None
        for node in cls.node.body:
            if isinstance(node, _FUNCS) and node.name == name:
                return cls.module, node
        for base in self._bases(cls):
            if base.kind == "class":
                found = self.method(base, name, depth + 1)
                if found is not None:
                    return found
        return None

    def parameters(
        self, module: Module, node: FunctionNode, skip_self: bool = False, depth: int = 0
    ) -> list[tuple[str, DependencyInfo]]:
        """The dependencies a function's parameters declare, in signature order."""
        if depth > MAX_DEPTH or id(node) in self._walking:
            return []  # a dependency cycle (FastAPI itself would recurse forever on it)
        self._walking.add(id(node))
        try:
            return self._parameters(module, node, skip_self, depth)
        finally:
            self._walking.discard(id(node))

    def _parameters(
        self, module: Module, node: FunctionNode, skip_self: bool, depth: int
    ) -> list[tuple[str, DependencyInfo]]:
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(
            args.defaults
        )
        pairs = list(zip(positional, defaults, strict=True)) + list(
            zip(args.kwonlyargs, args.kw_defaults, strict=True)
        )
        if skip_self:
            pairs = pairs[1:]
        found = []
        for arg, default in pairs:
            annotation = arg.annotation
            if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                try:
                    annotation = ast.parse(annotation.value, mode="eval").body
                except SyntaxError:
                    annotation = None
            dep = self._annotated(module, annotation, arg.arg, depth) if annotation is not None else None
            if dep is None and default is not None:
                dep = self.depends(module, default, annotation=annotation, param=arg.arg, depth=depth)
            if dep is not None:
                found.append((arg.arg, dep))
        return found

    def _annotated(
        self, module: Module, annotation: ast.expr, param: str, depth: int
    ) -> DependencyInfo | None:
        """The dependency in `Annotated[T, Depends(x)]`, written out or through an alias (any module)."""
        for _ in range(8):
            if isinstance(annotation, ast.Subscript):
                base = self.evaluate(module, annotation.value)
                if base is None or base.kind != "external" or not base.dotted.endswith("Annotated"):
                    return None
                items = (
                    annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
                )
                # FastAPI uses the last of its own markers in the metadata.
                markers = [m for m in items[1:] if self.param_function(module, m)]
                if not markers:
                    return None
                return self.depends(module, markers[-1], annotation=items[0], param=param, depth=depth)
            if not isinstance(annotation, ast.Name | ast.Attribute):
                return None
            ref = self.evaluate(module, annotation)
            if ref is None or ref.kind != "value" or ref.module is None:
                return None
            module, annotation = ref.module, ref.node
        return None
