"""Owner scoping read from the source: owned models, and queries that do not filter on the current user."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.gates.app_model import RouteInfo
from bot.gates.app_source import FUNCS
from bot.gates.auth_rules import authenticates
from bot.gates.static_index import FunctionNode, Module
from bot.gates.static_routes import SourceIndex

OWNER_FIELDS = ("user_id", "owner_id", "owner")


_USER_FOREIGN_KEY = re.compile(r"(?i)^\w*users?\.\w+$")


_QUERY_BUILDERS = frozenset({"select", "update", "delete"})


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
            if isinstance(node, FUNCS) and node.lineno == route.line:
                return module, node
        return None
