"""Owner scoping read from the source: owned models, and queries that do not filter on the current user."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.gates.app_model import RouteInfo
from bot.gates.app_source import FUNCS
from bot.gates.auth_rules import authenticates
from bot.gates.owner_models import OwnedModel, owned_models
from bot.gates.static_index import FunctionNode, Module
from bot.gates.static_routes import SourceIndex

_QUERY_BUILDERS = frozenset({"select", "update", "delete"})


_GATING = frozenset({"where", "filter", "filter_by", "having", "join", "outerjoin"})
# Methods that put a condition into a collection the query spreads later.
_COLLECTING = frozenset({"append", "extend", "insert", "add"})


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


def _collected(node: ast.AST) -> tuple[set[str], ast.AST] | None:
    """`conditions.append(Task.user_id == user_id)`: the collection, and what goes into it."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    if node.func.attr not in _COLLECTING or not isinstance(node.func.value, ast.Name):
        return None
    return {node.func.value.id}, ast.Tuple([*node.args, *(k.value for k in node.keywords)])


def _taint(function: FunctionNode, seeds: set[str]) -> set[str]:
    """Names derived from the user's id: `owned = Task.user_id == user_id` carries it on, and so
    does a list of conditions it is appended to (later spread into `.where(*conditions)`)."""
    tainted = set(seeds)
    bindings: list[tuple[set[str], ast.AST]] = []
    filled: list[tuple[set[str], ast.AST]] = []
    for node in ast.walk(function):
        source = _sources(node)
        if source is not None:
            bindings.append((_targets(node), source))
        elif (collected := _collected(node)) is not None:
            filled.append(collected)
    flows = bindings + filled
    changed = True
    while changed:
        changed = False
        for targets, source in flows:
            if _names(source) & tainted and not targets <= tainted:
                tainted |= targets
                changed = True
    # A name rebound to a value without the user's id (`owned = Task.title.contains(q)` after
    # `owned = Task.user_id == user_id`) no longer scopes on that path: a name counts only if
    # every binding carries the id. A collection counts if anything put into it does
    # (`conditions = []`, then `conditions.append(Task.user_id == user_id)`).
    collections = set().union(*(targets for targets, _ in filled))
    changed = True
    while changed:
        changed = False
        for targets, source in bindings:
            dropped = (targets & tainted) - seeds - collections
            if dropped and not _names(source) & tainted:
                tainted -= dropped
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


def _gates(part: ast.AST, tainted: set[str], receivers: set[str] | None = None) -> bool:
    """A where/filter call whose condition uses the user's id (on one of `receivers`, when given)."""
    for node in ast.walk(part):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _GATING:
            continue
        if receivers is not None and not _names(node.func.value) & receivers:
            continue
        if any(_names(arg) & tainted for arg in [*node.args, *(k.value for k in node.keywords)]):
            return True
    return False


def _checks_owner(statement: ast.If, tainted: set[str], results: set[str], owner: str) -> bool:
    """`if row.owner_id != user_id: raise ...` (or return): the check stops another user's row."""
    compares = [
        n
        for n in ast.walk(statement.test)
        if isinstance(n, ast.Compare)
        and _names(n) & tainted
        and any(
            isinstance(a, ast.Attribute) and a.attr == owner and _names(a.value) & results
            for a in ast.walk(n)
        )
    ]
    if not compares:
        return False
    branches = [*statement.body, *statement.orelse]
    return any(isinstance(n, ast.Raise | ast.Return) for stmt in branches for n in ast.walk(stmt))


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
        """Only comparisons that gate the response count: a where/filter, or a check that raises."""
        node: ast.AST = call
        while not isinstance(node, ast.stmt) and id(node) in parents:
            node = parents[id(node)]
        if not isinstance(node, ast.stmt):
            return False
        if any(_gates(part, tainted) for part in _region(node)):
            return True
        # `stmt = select(M)` filtered later, or `m = session.get(M, id)` checked against the user.
        results = _targets(node)
        for other in ast.walk(function):
            if other is node or not isinstance(other, ast.stmt) or not results:
                continue
            if any(_gates(part, tainted, results) for part in _region(other)):
                return True
            if isinstance(other, ast.If) and _checks_owner(other, tainted, results, owner):
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
                 if authenticates(dep, self.auth_names, optional=True)}  # fmt: skip
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
