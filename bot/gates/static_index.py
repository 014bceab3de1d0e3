"""The app's source as an index: modules, their bindings, and what a name or expression refers to."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot import sandbox
from bot.gates.app_source import FUNCS, module_name, parse_module, python_files, source_bytes

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
            if isinstance(node, FUNCS):
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
                for block in blocks(node):
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


def blocks(node: ast.stmt) -> list[list[ast.stmt]]:
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
    target: Router | None = None  # a mount of an app the source creates


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


class SourceNames:
    """The app's modules and resolved names, from `ast` alone; routers are interpreted by a subclass."""

    def __init__(self, app_dir: Path, repo: Path | None = None) -> None:
        self.root = app_dir.resolve()
        self.repo = (repo or app_dir).resolve()
        # Where imports are looked up, in sys.path order: a src layout's root first (the sandbox
        # puts it on PYTHONPATH), then the app directory (the cwd).
        self.search = (*(self.root / r for r in sandbox.import_roots(self.root)), self.root)
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
        found: Module | None = None
        for root in self.search:
            found = self._find(root, name)
            if found is not None:
                break
        self._modules[name] = found
        return found

    def _find(self, root: Path, name: str) -> Module | None:
        base = root.joinpath(*name.split("."))
        for path, package in ((base.with_suffix(".py"), False), (base / "__init__.py", True)):
            real = path.resolve()
            if path.is_file() and real.is_relative_to(self.root):
                tree = parse_module(real, self.root)
                if tree is not None:
                    return Module(name, real, self.relative(real), tree, package)
        if base.is_dir() and base.resolve().is_relative_to(self.root):
            return Module(name, None, "", ast.Module(body=[], type_ignores=[]), True)  # namespace package
        return None

    def name_of(self, path: Path) -> str:
        """The name `path` is imported by: relative to the first import root that holds it."""
        root = next((r for r in self.search if path.is_relative_to(r)), self.root)
        return module_name(path.relative_to(root))

    def relative(self, path: Path) -> str:
        base = self.repo if path.is_relative_to(self.repo) else self.root
        return path.relative_to(base).as_posix()

    def modules(self, mentioning: re.Pattern[bytes] | None = None) -> Iterator[Module]:
        """Every module of the app (tests, migrations and virtualenvs left out); with `mentioning`,
        only those whose source matches it: the others are read, never parsed."""
        for path in python_files(self.root):
            if mentioning is not None and not mentioning.search(source_bytes(path, self.root)):
                continue
            found = self.module(self.name_of(path))
            if found is not None and found.path is not None:
                yield found

    def module_for_file(self, rel: str) -> Module | None:
        path = (self.repo / rel).resolve()
        if not path.is_relative_to(self.root) or path.suffix != ".py":
            return None
        return self.module(self.name_of(path))

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
            return self.import_ref(value[0], value[1], depth)
        key = (module.name, name)
        if key in self._resolving or depth > MAX_DEPTH:
            return None
        self._resolving.add(key)
        try:
            return self.evaluate(module, value, None, depth + 1)
        finally:
            self._resolving.discard(key)

    def import_ref(self, source: str, attr: str | None, depth: int) -> Ref | None:
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
            if base.kind == "instance" and base.cls is not None:
                return self.class_attribute(base.cls, expr.attr, depth + 1)  # settings.API_V1_STR
            return None
        if isinstance(expr, ast.Call):
            return self._evaluate_call(module, expr, scope, depth)
        return Ref("value", module, expr)

    def class_attribute(self, cls: Ref, name: str, depth: int = 0) -> Ref | None:
        """A class-level default of an app class or its app bases (a settings field's default)."""
        if (
            depth > MAX_DEPTH
            or cls.kind != "class"
            or cls.module is None
            or not isinstance(cls.node, ast.ClassDef)
        ):
            return None
        for item in cls.node.body:
            targets = (
                item.targets
                if isinstance(item, ast.Assign)
                else [item.target]
                if isinstance(item, ast.AnnAssign)
                else []
            )
            value = getattr(item, "value", None)
            if value is not None and any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return Ref("value", cls.module, value)
        for base in cls.node.bases:
            found = self.evaluate(cls.module, base, None, depth + 1)
            if found is not None and found.kind == "class":
                attribute = self.class_attribute(found, name, depth + 1)
                if attribute is not None:
                    return attribute
        return None

    def _evaluate_call(self, module: Module, call: ast.Call, scope: Scope | None, depth: int) -> Ref | None:
        func = self.evaluate(module, call.func, scope, depth + 1)
        if func is None:
            return None
        if func.kind == "external":
            last = func.dotted.rpartition(".")[2]
            if last in ("FastAPI", "APIRouter") and func.dotted.startswith(("fastapi", "?")):
                return Ref(
                    "router", module, call, router=self.router_for(module, call, last == "FastAPI", scope)
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

    def string(
        self, module: Module, expr: ast.expr | None, scope: Scope | None, depth: int = 0
    ) -> str | None:
        """A string the source spells out (constants, names bound to them, f-strings of them)."""
        if expr is None or depth > MAX_DEPTH:
            return None
        if isinstance(expr, ast.Constant):
            return expr.value if isinstance(expr.value, str) else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left = self.string(module, expr.left, scope, depth + 1)
            right = self.string(module, expr.right, scope, depth + 1)
            return left + right if left is not None and right is not None else None
        if isinstance(expr, ast.JoinedStr):
            parts = []
            for value in expr.values:
                inner = value.value if isinstance(value, ast.FormattedValue) else value
                text = self.string(module, inner, scope, depth + 1)
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
            return self.string(ref.module, ref.node, None, depth + 1)
        return None

    # -- provided by RouterReader: interpreting calls can register routes ------------------------
    def router_for(self, module: Module, call: ast.Call, is_app: bool, scope: Scope | None) -> Router:
        raise NotImplementedError

    def execute(
        self, module: Module, body: list[ast.stmt], scope: Scope | None, returned: list[Ref | None], *,
        depth: int, owner: str,
    ) -> None:  # fmt: skip
        raise NotImplementedError
