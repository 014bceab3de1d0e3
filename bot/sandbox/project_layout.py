"""Where a project keeps its lock file and its import roots: uv.lock, src layouts."""

from __future__ import annotations

from pathlib import Path

UV_LOCK = "uv.lock"


def between(repo: Path, app_dir: Path) -> list[Path]:
    """The app directory and its parents up to the repository root, nearest first."""
    if app_dir == repo or not app_dir.is_relative_to(repo):
        return [repo]
    return [app_dir, *(p for p in app_dir.parents if p.is_relative_to(repo))]


def find_uv_lock(repo: Path, app_dir: Path) -> Path | None:
    """The nearest uv.lock from the app directory up to the repository root (a regular file)."""
    for folder in between(repo, app_dir):
        lock = folder / UV_LOCK
        if lock.is_file() and not lock.is_symlink():
            return lock
    return None


def uv_sync_argv(repo: Path, lock: Path) -> tuple[str, ...]:
    """`uv sync --frozen` for the project that owns `lock` (setup commands run from the root)."""
    rel = lock.parent.relative_to(repo).as_posix()
    return ("uv", "sync", "--frozen") if rel == "." else ("uv", "sync", "--frozen", "--project", rel)


def is_src_root(folder: Path) -> bool:
    """A src layout: `src/` is not a package itself but holds one (its code imports `pkg`, not `src.pkg`)."""
    if not folder.is_dir() or (folder / "__init__.py").exists():
        return False
    return any(
        (child / "__init__.py").is_file() or (child.suffix == ".py" and child.is_file())
        for child in folder.iterdir()
    )


def import_roots(app_dir: Path) -> tuple[str, ...]:
    """Directories, relative to the app directory, that sandboxed code needs on sys.path."""
    return ("src",) if is_src_root(app_dir / "src") else ()
