"""The orchestrator's import path: never the repository or the current directory (runs before any import)."""

# No `from __future__ import annotations` in this module or in bot/__main__.py: that statement is
# an import too (of `__future__`, which is not preloaded), and nothing may be imported from
# sys.path before secure() has cleaned it. Only `os` and `sys` are used: both are loaded (frozen
# or built in) before any user code, so no file in the repository can stand in for them.
import os
import sys

REFUSED = (
    "Specship stopped before doing anything: the module {module!r} was imported from {path}, "
    "inside the repository or the current directory, before Specship started, so code that is "
    "not Specship's already ran in this process."
)
REFUSED_FIX = (
    "Start Specship as `specship ...` (the installed command) or `python -P -m bot ...`, and keep "
    "relative entries and the repository out of PYTHONPATH; then remove {path} if you did not put "
    "it there."
)

# Options that name the repository a command works on (`--repo PATH` or `--repo=PATH`).
_REPO_OPTIONS = ("--repo",)


def _real(path: str) -> str:
    return os.path.realpath(path)


def _within(path: str, root: str) -> bool:
    """True when `path` is `root` or below it (both real paths)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def workspaces(argv: "list[str]", environ: "dict[str, str] | os._Environ[str]", cwd: str) -> "list[str]":
    """The directories whose files the model or the user's repository control: the current
    directory, GITHUB_WORKSPACE and every --repo argument (real paths)."""
    found = [cwd]
    workspace = environ.get("GITHUB_WORKSPACE", "")
    if workspace:
        found.append(workspace)
    for index, arg in enumerate(argv):
        for option in _REPO_OPTIONS:
            if arg == option and index + 1 < len(argv):
                found.append(argv[index + 1])
            elif arg.startswith(option + "="):
                found.append(arg.split("=", 1)[1])
    return [_real(os.path.join(cwd, path)) for path in found if path]


def trusted_prefixes() -> "list[str]":
    """The interpreter's own directories (stdlib, site-packages): kept even inside a workspace,
    because a virtual environment may live there and Specship cannot run without it."""
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return sorted(_real(p) for p in prefixes if p)


def _exposed(real: str, roots: "list[str]", prefixes: "list[str]") -> bool:
    """True when `real` lies in a workspace and is not part of an interpreter installed inside it.

    A virtual environment inside the repository (`.venv/`) stays usable; a repository inside an
    interpreter's prefix (`/usr/src/app` with Python in `/usr`) is still a workspace.
    """
    for root in roots:
        if _within(real, root) and not any(
            _within(real, prefix) and _within(prefix, root) and prefix != root for prefix in prefixes
        ):
            return True
    return False


def unsafe_entries(path: "list[str]", roots: "list[str]", prefixes: "list[str]") -> "list[str]":
    """The sys.path entries through which a file of a workspace could be imported.

    Relative entries ('' included) follow the current directory, so they always go. An absolute
    entry goes when it lies in a workspace, unless it is one of the interpreter's own directories.
    Specship's own source tree may go too: `bot` is imported by then, and its submodules are found
    through the package's own __path__, not through sys.path.
    """
    unsafe = []
    for entry in path:
        if not isinstance(entry, str) or not os.path.isabs(entry):
            unsafe.append(entry)
            continue
        if _exposed(_real(entry), roots, prefixes):
            unsafe.append(entry)
    return unsafe


def foreign_modules(
    modules: "dict[str, object]", roots: "list[str]", prefixes: "list[str]", own_root: str
) -> "list[tuple[str, str]]":
    """Modules already imported from a workspace (name, file): code that ran before the guard."""
    found = []
    for name, module in list(modules.items()):
        origin = getattr(module, "__file__", None)
        if not isinstance(origin, str) or not origin:
            continue
        real = _real(origin)
        if not _exposed(real, roots, prefixes):
            continue
        if own_root and _within(real, os.path.join(own_root, "bot")):
            continue  # Specship itself (its checkout may be the current directory in development)
        found.append((name, real))
    return found


def secure(argv: "list[str] | None" = None) -> None:
    """Take every workspace entry off sys.path; refuse to go on if one was already imported from.

    Call it first thing in the program, before any other import.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        cwd = os.getcwd()
    except OSError:  # the current directory was deleted: nothing can be imported from it
        cwd = "/nonexistent"
    roots = workspaces(args, os.environ, cwd)
    prefixes = trusted_prefixes()
    own_root = _real(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for entry in unsafe_entries(list(sys.path), roots, prefixes):
        while entry in sys.path:
            sys.path.remove(entry)
        sys.path_importer_cache.pop(entry, None)
    foreign = foreign_modules(dict(sys.modules), roots, prefixes, own_root)
    if foreign:
        module, path = foreign[0]
        sys.stderr.write(
            "specship: error: "
            + REFUSED.format(module=module, path=path)
            + "\n  How to fix: "
            + REFUSED_FIX.format(path=path)
            + "\n"
        )
        raise SystemExit(1)
