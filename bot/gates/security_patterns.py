"""FastAPI security patterns found by walking the AST: leaked errors, SQL formatting, JWT, secrets."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

from bot import parsed
from bot.gates import Finding, Severity
from bot.gates.security_values import (
    GETENV,
    JWT_DECODERS,
    JWT_MODULES,
    SECRET_NAME,
    Resolver,
    Scope,
    ValueRules,
    call_name,
    is_literal_secret,
)

# -- FastAPI patterns by AST -----------------------------------------------------------------------

_ERROR_CALLS = frozenset({"HTTPException", "WebSocketException"})
_RESPONSE_CALLS = frozenset(
    {"JSONResponse", "PlainTextResponse", "HTMLResponse", "ORJSONResponse", "UJSONResponse", "Response"}
)
_TRACEBACK_CALLS = frozenset({"format_exc", "format_exception", "format_tb", "format_stack", "exc_info"})
_SAFE_ATTRS = frozenset({"detail", "status_code", "headers"})
_SQL_CALLS = frozenset({"execute", "exec", "executemany", "exec_driver_sql", "executescript"})
_SQL_KWARGS = ("statement", "sql", "query")


def _constant_like(node: ast.AST) -> bool:
    """Literals and UPPER_CASE names (module constants) are not user input."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Attribute):
        return node.attr.isupper()
    return False


def _formatted(node: ast.AST) -> str:
    """How a string expression is built from non-constant values ('' when it is not)."""
    if isinstance(node, ast.JoinedStr):
        values = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
        return "an f-string" if any(not _constant_like(v) for v in values) else ""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        is_text = isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)
        right = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        return "%-formatting" if is_text and any(not _constant_like(v) for v in right) else ""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = [node.left, node.right]
        texty = any(
            isinstance(p, ast.JoinedStr) or (isinstance(p, ast.Constant) and isinstance(p.value, str))
            for p in parts
        ) or any(_formatted(p) for p in parts)
        return "string concatenation" if texty and any(not _constant_like(p) for p in parts) else ""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        base = node.func.value
        args = [*node.args, *(k.value for k in node.keywords)]
        if (
            isinstance(base, ast.Constant)
            and isinstance(base.value, str)
            and any(not _constant_like(a) for a in args)
        ):
            return "str.format"
    return ""


def _assignments(body: Iterable[ast.AST]) -> dict[str, list[ast.AST]]:
    found: dict[str, list[ast.AST]] = {}
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value)
        elif (
            isinstance(node, ast.AnnAssign | ast.AugAssign)
            and isinstance(node.target, ast.Name)
            and node.value is not None
        ):
            value = node.value
            if isinstance(node, ast.AugAssign):
                value = ast.BinOp(ast.Name(node.target.id), node.op, node.value)
            found.setdefault(node.target.id, []).append(value)
        stack.extend(ast.iter_child_nodes(node))
    return found


class _Scanner(ValueRules, ast.NodeVisitor):
    """Walks one module and records (line, span, rule, message) for each pattern found."""

    def __init__(self, resolver: Resolver | None = None) -> None:
        self.resolver = resolver
        self.hits: list[tuple[int, tuple[int, int], str, str]] = []
        self.scopes: list[Scope] = []
        self.jwt_modules: set[str] = {"jwt"}
        self.jwt_functions: set[str] = set()
        self.handler_depth = 0
        self.settings_class = 0

    def hit(self, node: ast.AST, rule: str, message: str, anchor: ast.AST | None = None) -> None:
        where = anchor or node
        line = getattr(where, "lineno", 1)
        span = (getattr(node, "lineno", line), getattr(node, "end_lineno", None) or line)
        self.hits.append((line, span, rule, message))

    # scopes
    def visit_Module(self, node: ast.Module) -> None:
        self.scopes.append(Scope(assignments=_assignments(node.body)))
        for stmt in node.body:
            if isinstance(stmt, ast.Assign | ast.AnnAssign):
                self._secret_assignment(stmt, "module constant")
        self.generic_visit(node)
        self.scopes.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        names: set[str] = set()
        is_handler = any("exception_handler" in ast.unparse(d) for d in node.decorator_list)
        params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        for arg in params:
            annotation = ast.unparse(arg.annotation) if arg.annotation else ""
            if re.search(r"Exception|Error", annotation) or (
                is_handler and arg.arg in ("exc", "exception", "e")
            ):
                names.add(arg.arg)
        positional = [*node.args.posonlyargs, *node.args.args]
        pairs = [
            *zip(positional[len(positional) - len(node.args.defaults) :], node.args.defaults, strict=True),
            *(
                (a, d)
                for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
                if d is not None
            ),
        ]
        for arg, default in pairs:
            if SECRET_NAME.search(arg.arg) and is_literal_secret(default):
                self.hit(default, "secret-default", f"parameter {arg.arg} has a hard-coded secret default")
        self.scopes.append(Scope(names, _assignments(node.body)))
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name and self.scopes:
            self.scopes[-1].exception_names.add(node.name)
        self.handler_depth += 1
        self.generic_visit(node)
        self.handler_depth -= 1

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {call_name(b) for b in node.bases}
        is_settings = "BaseSettings" in bases or node.name.endswith(("Settings", "Config", "Configuration"))
        if is_settings:
            for stmt in node.body:
                if isinstance(stmt, ast.Assign | ast.AnnAssign):
                    self._secret_assignment(stmt, f"settings field of {node.name}")
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name in JWT_MODULES:
                self.jwt_modules.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            if f"{module}.{alias.name}" in JWT_MODULES:
                self.jwt_modules.add(alias.asname or alias.name)
            elif module in JWT_MODULES and alias.name in JWT_DECODERS:
                self.jwt_functions.add(alias.asname or alias.name)

    # rules
    def _secret_assignment(self, stmt: ast.Assign | ast.AnnAssign, what: str) -> None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        value = stmt.value
        if isinstance(value, ast.Call) and call_name(value) in ("Field", "SecretStr", "field"):
            default = next((k.value for k in value.keywords if k.arg == "default"), None)
            value = default or (value.args[0] if value.args else None)
        for target in targets:
            if isinstance(target, ast.Name) and SECRET_NAME.search(target.id) and is_literal_secret(value):
                self.hit(stmt, "secret-default", f"{what} {target.id} has a hard-coded secret value")

    def _exception_names(self) -> set[str]:
        return set().union(*(s.exception_names for s in self.scopes)) if self.scopes else set()

    def _leak(self, node: ast.AST | None) -> str:
        """What internal detail `node` carries: exception text or a traceback ('' when none)."""
        if node is None:
            return ""
        names = self._exception_names()
        safe: set[int] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and sub.attr in _SAFE_ATTRS and isinstance(sub.value, ast.Name):
                safe.add(id(sub.value))
            if isinstance(sub, ast.Call) and call_name(sub) in _TRACEBACK_CALLS:
                return f"a traceback ({ast.unparse(sub.func)}())"
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in names and id(sub) not in safe:
                return f"the exception text ({ast.unparse(node)[:60]})"
        return ""

    def _resolve(self, node: ast.AST) -> tuple[str, ast.AST]:
        """How `node` (or the variable it names) was built by string formatting."""
        how = _formatted(node)
        if how or not isinstance(node, ast.Name):
            return how, node
        for scope in reversed(self.scopes):
            for value in scope.assignments.get(node.id, []):
                how = _formatted(value)
                if how:
                    return f"{how} (assigned to {node.id} on line {getattr(value, 'lineno', '?')})", value
            if node.id in scope.assignments:
                break
        return "", node

    def visit_Call(self, node: ast.Call) -> None:
        name = call_name(node)
        if name in _ERROR_CALLS or name in _RESPONSE_CALLS:
            self._check_response(node, name)
        if name == "text" or (name in _SQL_CALLS and isinstance(node.func, ast.Attribute)):
            statement = node.args[0] if node.args else None
            statement = next((k.value for k in node.keywords if k.arg in _SQL_KWARGS), statement)
            if statement is not None:
                how, _ = self._resolve(statement)
                if how:
                    self.hit(
                        node,
                        "sql-format",
                        f"SQL built with {how} is passed to {name}(); use bound parameters "
                        "(text('... :name').bindparams(...) or select().where())",
                    )
        if self._is_jwt_decode(node):
            self._check_jwt(node)
        if name in GETENV and len(node.args) >= 1:
            self._check_getenv(node)
        self.generic_visit(node)

    def _check_response(self, node: ast.Call, name: str) -> None:
        keyword = "detail" if name in _ERROR_CALLS else "content"
        position = 1 if name in _ERROR_CALLS else 0
        values = [k.value for k in node.keywords if k.arg == keyword]
        values += node.args[position:] if name in _RESPONSE_CALLS else node.args[position : position + 1]
        for value in values:
            leak = self._leak(value)
            if not leak:
                continue
            self.hit(
                node,
                "error-leak",
                f"{name}({keyword}=...) returns {leak} to the client; log it and return a fixed message",
                anchor=value,
            )
            break

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        self.check_or_default(node)
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if self.handler_depth and isinstance(node.value, ast.Dict):
            leak = self._leak(node.value)
            if leak:
                self.hit(
                    node,
                    "error-leak",
                    f"the response returns {leak} to the client; log it and return a fixed message",
                )
        self.generic_visit(node)


def scan_source(
    path: str, source: str, changed: set[int] | None = None, resolver: Resolver | None = None
) -> list[Finding]:
    """The FastAPI-specific patterns in one Python file; hits on lines outside `changed` are warnings.

    `resolver` follows a name into the rest of the app (imports, settings classes); without it,
    names are followed within the file only.
    """
    try:
        tree = parsed.parse(source, path)
    except (SyntaxError, ValueError):
        return []  # bandit reports files it cannot parse
    scanner = _Scanner(resolver)
    scanner.visit(tree)
    findings = []
    for line, (first, last), rule, message in sorted(set(scanner.hits)):
        new = changed is None or any(n in changed for n in range(first, last + 1))
        level: Severity = "error" if new else "warning"
        note = "" if new else " (unchanged since the base commit)"
        findings.append(Finding(message + note, path, line, level, rule=rule))
    return findings
