"""Status codes and environment reads found on the added lines of Python files (AST, else patterns)."""

from __future__ import annotations

import ast
import bisect
import http
import re
import textwrap
from dataclasses import dataclass

from bot import parsed
from bot.report.evidence import FilePatch, is_test_file

_HTTP_NAME = re.compile(r"^HTTP_(\d{3})(?:_|$)")


_ROUTE_CALLS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "api_route", "add_api_route", "websocket"}
)


_RESPONSE_CLASSES = ("Response", "JSONResponse", "PlainTextResponse", "HTMLResponse", "RedirectResponse")


MAX_PARSED_PATCH = 2_000_000


# Priority of the ways new code can produce a status code, strongest first.
KINDS = ("raises", "returns", "route", "documented", "referenced")


@dataclass(frozen=True)
class StatusUse:
    """An HTTP status code that an added line raises, returns, declares or documents."""

    code: int
    file: str
    line: int
    kind: str


@dataclass(frozen=True)
class EnvRead:
    """One place where added code reads an environment variable."""

    name: str
    file: str
    line: int
    default: str | None
    via: str

    @property
    def required(self) -> bool:
        return self.default is None


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def _code(node: ast.AST | None) -> int | None:
    """The integer status a node spells: 404, status.HTTP_404_NOT_FOUND or HTTPStatus.NOT_FOUND."""
    if isinstance(node, ast.Constant) and type(node.value) is int and 100 <= node.value <= 599:
        return node.value
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    match = _HTTP_NAME.match(name)
    if match:
        return int(match.group(1))
    if isinstance(node, ast.Attribute) and _dotted(node.value).endswith("HTTPStatus"):
        try:
            return http.HTTPStatus[node.attr].value
        except KeyError:
            return None
    return None


def _text(node: ast.AST) -> str:
    """A default as a reader sees it: the string itself, or the expression's source."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if node.value else '""'
    return ast.unparse(node)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _first_string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call):  # AliasChoices("A", "B") / AliasPath("A", 0)
        return next((s for s in map(_first_string, node.args) if s), None)
    return None


class _Scanner(ast.NodeVisitor):
    """Walks one module, keeping what touches the wanted (added) lines."""

    def __init__(self, path: str, wanted: list[int] | None) -> None:
        self.path = path
        self.wanted = wanted  # sorted added line numbers; None: every line
        self.statuses: list[StatusUse] = []
        self.envs: list[EnvRead] = []
        self._settings: set[str] = set()
        self._codes = not is_test_file(path)

    def _touched(self, node: ast.AST) -> bool:
        if self.wanted is None:
            return True
        start = getattr(node, "lineno", 0)
        index = bisect.bisect_left(self.wanted, start)
        end = getattr(node, "end_lineno", None) or start
        return index < len(self.wanted) and self.wanted[index] <= end

    def _status(self, node: ast.AST | None, at: ast.AST, kind: str) -> None:
        code = _code(node)
        if code is not None and self._codes:
            line: int = getattr(node, "lineno", 0) or getattr(at, "lineno", 0)
            self.statuses.append(StatusUse(code, self.path, line, kind))

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        if self._touched(node):
            args = [*node.args, None, None]
            if name in ("os.getenv", "getenv", "os.environ.get", "environ.get", "os.environ.setdefault"):
                var = _first_string(node.args[0]) if node.args else None
                default = args[1] if args[1] is not None else _keyword(node, "default")
                if var:
                    text = None if default is None else _text(default)
                    self.envs.append(EnvRead(var, self.path, node.lineno, text, name + "()"))
            elif last.endswith("HTTPException"):
                self._status(_keyword(node, "status_code") or args[0], node, "raises")
            elif last in _RESPONSE_CLASSES:
                self._status(_keyword(node, "status_code"), node, "returns")
            elif last in _ROUTE_CALLS and "." in name:
                self._status(_keyword(node, "status_code"), node, "route")
                responses = _keyword(node, "responses")
                if isinstance(responses, ast.Dict):
                    for key in responses.keys:
                        self._status(key, key or node, "documented")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if (
            isinstance(node.ctx, ast.Load)
            and _dotted(node.value) in ("os.environ", "environ")
            and self._touched(node)
        ):
            var = _first_string(node.slice)
            if var:
                self.envs.append(EnvRead(var, self.path, node.lineno, None, "os.environ[]"))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if self._touched(node) and _HTTP_NAME.match(node.attr):
            self._status(node, node, "referenced")
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {_dotted(b).rsplit(".", 1)[-1] for b in node.bases}
        if bases & {"BaseSettings", *self._settings}:
            self._settings.add(node.name)
            prefix = _env_prefix(node)
            for stmt in node.body:
                if isinstance(stmt, ast.AnnAssign) and self._touched(stmt) and _is_field(stmt):
                    self.envs.append(_settings_field(stmt, prefix, node.name, self.path))
        self.generic_visit(node)


def _is_field(stmt: ast.AnnAssign) -> bool:
    name = stmt.target.id if isinstance(stmt.target, ast.Name) else "_"
    return (
        not name.startswith("_") and name != "model_config" and "ClassVar" not in ast.unparse(stmt.annotation)
    )


def _env_prefix(node: ast.ClassDef) -> str:
    """env_prefix from `model_config = SettingsConfigDict(...)`, a dict literal, or `class Config`."""
    for stmt in node.body:
        value: ast.AST | None = None
        if isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
                value = stmt.value
        if isinstance(value, ast.Call):
            found = _first_string(_keyword(value, "env_prefix"))
            if found is not None:
                return found
        if isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values, strict=True):
                if _first_string(key) == "env_prefix" and _first_string(item) is not None:
                    return _first_string(item) or ""
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Config":
            for inner in stmt.body:
                if isinstance(inner, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "env_prefix" for t in inner.targets
                ):
                    return _first_string(inner.value) or ""
    return ""


def _settings_field(stmt: ast.AnnAssign, prefix: str, owner: str, path: str) -> EnvRead:
    name = (prefix + (stmt.target.id if isinstance(stmt.target, ast.Name) else "")).upper()
    value = stmt.value
    default: str | None = None if value is None else _text(value)
    if isinstance(value, ast.Call) and _dotted(value.func).rsplit(".", 1)[-1] == "Field":
        alias = next(
            (a for k in ("validation_alias", "alias", "env") if (a := _first_string(_keyword(value, k)))),
            None,
        )
        name = alias.upper() if alias else name
        given = value.args[0] if value.args else _keyword(value, "default")
        factory = _keyword(value, "default_factory")
        if isinstance(given, ast.Constant) and given.value is Ellipsis:
            given = None
        default = _text(given) if given is not None else f"{ast.unparse(factory)}()" if factory else None
    return EnvRead(name, path, stmt.lineno, default, f"{owner} (BaseSettings)")


_RE_GETENV = re.compile(
    r"\b(?:os\.)?(getenv|environ\.get)\(\s*[\"']([A-Za-z_]\w*)[\"']\s*(?:,\s*(?:default\s*=\s*)?([^()\n]+?))?\s*\)"
)


_RE_ENVIRON = re.compile(r"\benviron\[\s*[\"']([A-Za-z_]\w*)[\"']\s*\](?!\s*=[^=])")


_RE_STATUS = re.compile(
    r"\bHTTPException\(\s*(?:status_code\s*=\s*)?(?:status\.HTTP_)?(\d{3})\b"
    r"|\bstatus\.HTTP_(\d{3})_|\bstatus_code\s*=\s*(\d{3})\b"
)


def _regex_scan(path: str, lines: list[tuple[int, str]]) -> tuple[list[StatusUse], list[EnvRead]]:
    """The fallback for added code that does not parse on its own (line-level patterns only)."""
    statuses: list[StatusUse] = []
    envs: list[EnvRead] = []
    for number, text in lines:
        for m in _RE_GETENV.finditer(text):
            default = m.group(3)
            if default is not None:
                try:
                    default = _text(ast.parse(default.strip(), mode="eval").body)
                except SyntaxError:
                    default = default.strip()
            envs.append(EnvRead(m.group(2), path, number, default, m.group(1) + "()"))
        envs.extend(
            EnvRead(m.group(1), path, number, None, "os.environ[]") for m in _RE_ENVIRON.finditer(text)
        )
        if not is_test_file(path):
            for m in _RE_STATUS.finditer(text):
                code = int(next(g for g in m.groups() if g))
                kind = "raises" if m.group(1) else "referenced"
                if 100 <= code <= 599:
                    statuses.append(StatusUse(code, path, number, kind))
    return statuses, envs


def _blocks(added: dict[int, str]) -> list[list[tuple[int, str]]]:
    """Runs of consecutive added lines."""
    runs: list[list[tuple[int, str]]] = []
    for number in sorted(added):
        if runs and runs[-1][-1][0] == number - 1:
            runs[-1].append((number, added[number]))
        else:
            runs.append([(number, added[number])])
    return runs


def scan_python(patch: FilePatch, source: str | None) -> tuple[list[StatusUse], list[EnvRead]]:
    """Status codes and environment reads on the added lines of one Python file."""
    if len(patch.text) > MAX_PARSED_PATCH:  # generated code: line patterns only, in linear time
        return _regex_scan(patch.path, sorted(patch.added.items()))
    if source is not None:
        lines = source.splitlines()
        consistent = all(
            0 < n <= len(lines) and lines[n - 1] == t.rstrip("\r") for n, t in patch.added.items()
        )
        try:
            tree = parsed.parse(source, patch.path) if consistent else None
        except (SyntaxError, ValueError, RecursionError):
            tree = None
        if tree is not None:
            scanner = _Scanner(patch.path, sorted(patch.added))
            scanner.visit(tree)
            return scanner.statuses, scanner.envs
    statuses: list[StatusUse] = []
    envs: list[EnvRead] = []
    for block in _blocks(patch.added):
        try:
            tree = ast.parse(textwrap.dedent("\n".join(t for _, t in block)))
        except (SyntaxError, ValueError, RecursionError):
            found = _regex_scan(patch.path, block)
        else:
            ast.increment_lineno(tree, block[0][0] - 1)
            scanner = _Scanner(patch.path, None)
            scanner.visit(tree)
            found = scanner.statuses, scanner.envs
        statuses.extend(found[0])
        envs.extend(found[1])
    return statuses, envs


def strongest(uses: list[StatusUse]) -> list[StatusUse]:
    """One use per (code, file, line): the strongest kind wins ("raises" over "referenced")."""
    best: dict[tuple[int, str, int], StatusUse] = {}
    for use in uses:
        key = (use.code, use.file, use.line)
        if key not in best or KINDS.index(use.kind) < KINDS.index(best[key].kind):
            best[key] = use
    return sorted(best.values(), key=lambda u: (u.code, u.file, u.line))
