"""Finding the FastAPI app in the source: candidate files, parsing them safely, factories."""

from __future__ import annotations

import ast
import contextlib
import os
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from bot import sandbox
from bot.gates.app_model import AppLocation

APP_CANDIDATES = ("main.py", "app.py", "src/main.py", "app/main.py")


SKIP_DIRS = frozenset(
    {".git", ".venv", "venv", "env", "node_modules", "__pycache__", "tests", "test", "alembic",
     "migrations", "site-packages", "build", "dist"}
)  # fmt: skip


MAX_FILES = 3000


MAX_FILE_BYTES = 2_000_000


FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def module_name(rel: Path) -> str:
    parts = list(rel.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _call_name(node: ast.expr) -> str:
    func = node.func if isinstance(node, ast.Call) else node
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def constructs_app(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and _call_name(n) == "FastAPI" for n in ast.walk(node))


def _find_app(tree: ast.Module) -> tuple[str, bool] | None:
    """The attribute holding the app in one module: `x = FastAPI(...)`, `x = make()`, or a factory."""
    factories = {n.name for n in tree.body if isinstance(n, FUNCS) and constructs_app(n)}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            name = _call_name(node.value)
            if name == "FastAPI" or name in factories:
                for target in targets:
                    if isinstance(target, ast.Name):
                        return target.id, False
    if "create_app" in factories:
        return "create_app", True
    return (sorted(factories)[0], True) if factories else None


# Inside shared_parses(): every module parsed once, whichever reader (app detection, the static
# route table, owner scoping) asks. The trees are only read, never changed, so sharing them is safe.
_PARSED: ContextVar[dict[str, ast.Module | None] | None] = ContextVar("specship_parsed", default=None)
_READ: ContextVar[dict[str, bytes] | None] = ContextVar("specship_read", default=None)


@contextlib.contextmanager
def shared_parses() -> Iterator[None]:
    """Parse (and read) each file once while inside (one gate run: the sandbox cannot write the
    work tree)."""
    token, read = _PARSED.set({}), _READ.set({})
    try:
        yield
    finally:
        _PARSED.reset(token)
        _READ.reset(read)


def parsed_files() -> list[str]:
    """The files parsed so far inside shared_parses() (what a large repository costs)."""
    return list(_PARSED.get() or ())


def parse_module(path: Path, root: Path) -> ast.Module | None:
    """Parse a regular file inside the app (a symlink to /dev/zero or /etc must not be read)."""
    try:
        real = path.resolve()
        if not real.is_relative_to(root.resolve()) or not real.is_file():
            return None
    except (OSError, ValueError):
        return None
    parsed = _PARSED.get()
    if parsed is None:
        return _parse(real)
    key = str(real)
    if key not in parsed:
        parsed[key] = _parse(real)
    return parsed[key]


def _parse(real: Path) -> ast.Module | None:
    try:
        if real.stat().st_size > MAX_FILE_BYTES:
            return None
        return ast.parse(real.read_bytes(), filename=str(real))
    except (OSError, SyntaxError, ValueError):
        return None


def source_bytes(path: Path, root: Path) -> bytes:
    """A module's bytes, under the same rules as parse_module; b"" for one it would not parse.

    `root` is resolved already (SourceIndex.root): this runs for every module of a large app."""
    read = _READ.get()
    key = f"{root}\0{path}"
    if read is not None and key in read:
        return read[key]
    data = _read_source(path, root)
    if read is not None:
        read[key] = data
    return data


def _read_source(path: Path, root: Path) -> bytes:
    real = os.path.realpath(path)
    if not real.startswith(str(root) + os.sep):
        return b""
    try:
        info = os.stat(real)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return b""
        with open(real, "rb") as handle:
            return handle.read()
    except (OSError, ValueError):
        return b""


def python_files(root: Path) -> Iterator[Path]:
    count = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py"):
                count += 1
                if count > MAX_FILES:
                    return
                yield Path(folder) / name


def locate_app(app_dir: Path, configured: str = "") -> AppLocation | None:
    """The configured `module:attr`, else the first FastAPI app found in the usual places."""
    if configured:
        module, _, attr = configured.partition(":")
        return AppLocation(module, attr)
    candidates = [app_dir / c for c in APP_CANDIDATES]
    candidates += [p for p in python_files(app_dir) if p not in candidates]
    for path in candidates:
        tree = parse_module(path, app_dir)
        found = _find_app(tree) if tree is not None else None
        if found is not None:
            rel = path.relative_to(app_dir)
            if rel.parts[0] in sandbox.import_roots(app_dir):  # a src layout imports `pkg`, not `src.pkg`
                rel = Path(*rel.parts[1:])
            return AppLocation(module_name(rel), *found)
    return None
