"""The fastapi_auth gate: which dependency authenticates each route, and whether queries are per-user."""

from __future__ import annotations

import ast
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from bot.gates import Finding, GateContext, GateResult
from bot.gates.probe import DEFAULT_TIMEOUT_S, AppInfo, DependencyInfo, RouteInfo, load_app_info
from bot.gates.static_routes import FunctionNode, Module, SourceIndex
from bot.settings import Settings

NAME = "fastapi_auth"
# FastAPI's own documentation routes describe the API rather than serve data: open by default
# (docs/gates.md), wherever FastAPI(docs_url=...) puts them.
DOCS_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
OWNER_FIELDS = ("user_id", "owner_id", "owner")
_USER_FOREIGN_KEY = re.compile(r"(?i)^\w*users?\.\w+$")
_QUERY_BUILDERS = frozenset({"select", "update", "delete"})
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


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
    return route.docs or route.path in DOCS_PATHS or matches_public(patterns, method, route.path) is not None


# ---- authentication ------------------------------------------------------------------------------


def names_auth(dependency: DependencyInfo, auth_names: Iterable[str]) -> bool:
    """A dependency named in auth-dependencies, by simple name, qualified name or its dotted tail."""
    qualname = dependency.qualname
    return any(
        name in (dependency.name, qualname) or (qualname.endswith("." + name) and "." in name)
        for name in auth_names
    )


def authenticates(dependency: DependencyInfo, auth_names: Iterable[str]) -> bool:
    """It is, or depends (at any depth) on, a fastapi.security scheme or a configured auth dependency."""
    names = tuple(auth_names)
    return any(d.security is not None or names_auth(d, names) for d in dependency.walk())


def authentication(route: RouteInfo, auth_names: Iterable[str]) -> DependencyInfo | None:
    """The first of the route's dependencies (router ones first, as FastAPI runs them) that authenticates."""
    names = tuple(auth_names)
    return next((d for d in route.dependencies if authenticates(d, names)), None)


def scopes_of(dependency: DependencyInfo, inherited: tuple[str, ...] = ()) -> tuple[str, ...]:
    """OAuth2 scopes required on the way to its security schemes (Security(..., scopes=...))."""
    here = inherited + tuple(s for s in dependency.scopes if s not in inherited)
    found = here if dependency.security is not None else ()
    for child in dependency.children:
        found += tuple(s for s in scopes_of(child, here) if s not in found)
    return found


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


@dataclass(frozen=True)
class OwnedModel:
    """A SQLModel table whose rows belong to a user."""

    name: str
    module: str
    owner: str


@dataclass(frozen=True)
class Query:
    """A select/get of an owned model, and whether the current user's id takes part in it."""

    model: OwnedModel
    file: str
    line: int
    text: str
    scoped: bool


@dataclass
class _Analysis:
    queries: list[Query] = field(default_factory=list)
    touched: bool = False  # an owned model appears in the code at all
    reached: bool = False  # the user's id is passed on to the data layer


def _table_class(node: ast.ClassDef) -> bool:
    return any(
        k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in node.keywords
    )


def _owner_field(index: SourceIndex, module: Module, node: ast.ClassDef, depth: int = 0) -> str | None:
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            if item.target.id in OWNER_FIELDS:
                return item.target.id
            value = item.value
            for keyword in value.keywords if isinstance(value, ast.Call) else ():
                key = keyword.value
                if (
                    keyword.arg == "foreign_key"
                    and isinstance(key, ast.Constant)
                    and isinstance(key.value, str)
                    and _USER_FOREIGN_KEY.match(key.value)
                ):
                    return item.target.id
    for base in node.bases if depth < 10 else ():
        ref = index.evaluate(module, base)
        if ref is not None and ref.kind == "class" and ref.module is not None:
            found = _owner_field(index, ref.module, ref.node, depth + 1)
            if found:
                return found
    return None


def owned_models(index: SourceIndex) -> dict[tuple[str, str], OwnedModel]:
    """`table=True` classes with an owner field (user_id, owner_id, owner, or a key to a users table)."""
    found = {}
    for module in index.modules():
        for node in module.tree.body:
            if isinstance(node, ast.ClassDef) and _table_class(node):
                owner = _owner_field(index, module, node)
                if owner:
                    found[(module.name, node.name)] = OwnedModel(node.name, module.name, owner)
    return found


def _parents(node: ast.AST) -> dict[int, ast.AST]:
    return {id(child): parent for parent in ast.walk(node) for child in ast.iter_child_nodes(parent)}


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _targets(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Assign):
        return set().union(*(_names(t) for t in node.targets))
    if isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr | ast.For | ast.AsyncFor):
        return _names(node.target)
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return _names(node.optional_vars)
    return set()


def _sources(node: ast.AST) -> ast.AST | None:
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
        return node.value
    if isinstance(node, ast.For | ast.AsyncFor):
        return node.iter
    return node.context_expr if isinstance(node, ast.withitem) else None


def _taint(function: FunctionNode, seeds: set[str]) -> set[str]:
    """Names derived from the user's id: `owned = Task.user_id == user_id` carries it on."""
    tainted = set(seeds)
    nodes = [n for n in ast.walk(function) if _sources(n) is not None]
    changed = True
    while changed:
        changed = False
        for node in nodes:
            source = _sources(node)
            if source is not None and _names(source) & tainted and not _targets(node) <= tainted:
                tainted |= _targets(node)
                changed = True
    return tainted


def _region(statement: ast.stmt) -> list[ast.AST]:
    """The expressions of a statement itself, not of the blocks nested in it."""
    if isinstance(statement, ast.If | ast.While):
        return [statement.test]
    if isinstance(statement, ast.For | ast.AsyncFor):
        return [statement.iter]
    if isinstance(statement, ast.With | ast.AsyncWith):
        return list(statement.items)
    if isinstance(statement, ast.Try | ast.Match | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return []
    return [statement]


class OwnerScoping:
    """Reads handlers, and the app functions they call one level deep, for unscoped queries."""

    def __init__(self, index: SourceIndex, auth_names: Sequence[str]) -> None:
        self.index = index
        self.auth_names = tuple(auth_names)
        self.models = owned_models(index)
        self._mentions: dict[str, set[str]] = {}

    def _module_models(self, module: Module) -> set[str]:
        if module.name not in self._mentions:
            names = {m.name for m in self.models.values()}
            found = {n.id for n in ast.walk(module.tree) if isinstance(n, ast.Name) and n.id in names}
            self._mentions[module.name] = found
        return self._mentions[module.name]

    def _model(self, module: Module, expr: ast.expr) -> OwnedModel | None:
        for node in ast.walk(expr):
            if isinstance(node, ast.Name) and any(m.name == node.id for m in self.models.values()):
                ref = self.index.evaluate(module, node)
                if ref is not None and ref.kind == "class" and ref.module is not None:
                    model = self.models.get((ref.module.name, ref.node.name))
                    if model is not None:
                        return model
        return None

    def _query_model(self, module: Module, call: ast.Call) -> OwnedModel | None:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("get", "query") and call.args:
            return self._model(module, call.args[0])  # session.get(Model, id) / session.query(Model)
        if isinstance(func, ast.Name) and func.id in _QUERY_BUILDERS:
            ref = self.index.evaluate(module, func)
            if ref is None or (
                ref.kind == "external" and ref.dotted.startswith(("sqlmodel", "sqlalchemy", "?"))
            ):
                return next((m for m in (self._model(module, a) for a in call.args) if m), None)
        return None

    def _scoped(
        self,
        call: ast.Call,
        function: FunctionNode,
        parents: dict[int, ast.AST],
        tainted: set[str],
        owner: str,
    ) -> bool:
        node: ast.AST = call
        while not isinstance(node, ast.stmt) and id(node) in parents:
            node = parents[id(node)]
        if not isinstance(node, ast.stmt):
            return False
        if any(_names(part) & tainted for part in _region(node)):
            return True
        # `stmt = select(M)` filtered later, or `m = session.get(M, id)` checked against the user.
        results = _targets(node)
        getter = isinstance(call.func, ast.Attribute) and call.func.attr == "get"
        for other in ast.walk(function):
            if other is node or not isinstance(other, ast.stmt):
                continue
            for part in _region(other):
                names = _names(part)
                if not (names & tainted and names & results):
                    continue
                if not getter or any(
                    isinstance(n, ast.Attribute) and n.attr == owner and _names(n.value) & results
                    for n in ast.walk(part)
                ):
                    return True
        return False

    def analyze(self, module: Module, function: FunctionNode, seeds: set[str], depth: int = 0) -> _Analysis:
        result = _Analysis()
        tainted = _taint(function, seeds)
        parents = _parents(function)
        model_names = {m.name for m in self.models.values()}
        result.touched = any(isinstance(n, ast.Name) and n.id in model_names for n in ast.walk(function))
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            model = self._query_model(module, call)
            if model is not None:
                scoped = self._scoped(call, function, parents, tainted, model.owner)
                text = ast.unparse(call)
                text = text if len(text) <= 80 else text[:77] + "..."
                result.queries.append(Query(model, module.rel, call.lineno, text, scoped))
                continue
            callee = self.index.evaluate(module, call.func)
            if callee is None or callee.kind != "def" or callee.module is None or callee.module.path is None:
                continue
            passed = self._passed(callee.node, call, tainted)
            result.reached |= bool(passed)
            # a service module that works with owned models counts as touching them
            result.touched |= bool(self._module_models(callee.module))
            if depth == 0:
                inner = self.analyze(callee.module, callee.node, passed, depth + 1)
                result.queries += inner.queries
                result.touched |= inner.touched
                result.reached |= inner.reached
        if depth and seeds and any(isinstance(n, ast.Name) and n.id in seeds for n in ast.walk(function)):
            result.reached = True
        return result

    @staticmethod
    def _passed(callee: FunctionNode, call: ast.Call, tainted: set[str]) -> set[str]:
        """The callee's parameters that receive the user's id."""
        params = [a.arg for a in (*callee.args.posonlyargs, *callee.args.args, *callee.args.kwonlyargs)]
        passed = {params[i] for i, arg in enumerate(call.args[: len(params)]) if _names(arg) & tainted}
        passed |= {k.arg for k in call.keywords if k.arg in params and _names(k.value) & tainted}
        return {p for p in passed if p is not None}

    def route(self, route: RouteInfo) -> tuple[bool | None, list[Query]]:
        """owner_scoped for the route (None: no owned data in sight) and its unscoped queries."""
        found = self._handler(route)
        if found is None:
            return None, []
        module, function = found
        seeds = {param for param, dep in self.index.parameters(module, function)
                 if authenticates(dep, self.auth_names)}  # fmt: skip
        analysis = self.analyze(module, function, seeds)
        unscoped = [q for q in analysis.queries if not q.scoped]
        if unscoped:
            return False, unscoped
        if not analysis.touched and not analysis.queries:
            return None, []
        return (True if analysis.queries or (seeds and analysis.reached) else None), []

    def _handler(self, route: RouteInfo) -> tuple[Module, FunctionNode] | None:
        if not route.file or not route.line or not self.models:
            return None
        module = self.index.module_for_file(route.file)
        if module is None:
            return None
        for node in ast.walk(module.tree):
            if isinstance(node, _FUNCS) and node.lineno == route.line:
                return module, node
        return None


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
