"""Reading Spec Kit files at a revision or in the work tree: the guarded read, the shared files."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from pathlib import Path

from bot import git
from bot.speckit.layout import SPECS_DIR, project_root
from bot.speckit.model import Constitution, Problem, Standards
from bot.speckit.project import CONSTITUTION_PATH, STANDARDS_PATHS, parse_constitution, standards

MAX_FILE_BYTES = 2_000_000


def read_bytes(
    repo: Path,
    rev: str | None,
    path: str,
    blobs: Mapping[str, bytes | None] | None = None,
    *,
    resolved: dict[str, str] | None = None,
) -> tuple[bytes | None, Problem | None]:
    """A file's bytes, refusing work-tree symlinks that leave the repository and huge files;
    `blobs` holds the files of `rev` already read in one batch; `resolved`, the folders already
    resolved while reading the same feature (one read, so no folder can have changed since)."""
    if rev is None and not _inside(repo, path, {} if resolved is None else resolved):
        return None, Problem(
            path, None, "the file points outside the repository", "replace the symlink", "read"
        )
    data = blobs[path] if blobs is not None and path in blobs else git.show_file(repo, rev, path)
    if data is not None and len(data) > MAX_FILE_BYTES:
        what = f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB and was not read"
        return None, Problem(path, None, what, "split it", "read")
    return data, None


def _inside(repo: Path, path: str, resolved: dict[str, str]) -> bool:
    """Whether the work-tree file resolves to a place inside the repository.

    A file that is not itself a symlink resolves to its folder's real path plus its name, so each
    folder is resolved once (a full resolve per file did one lstat per path component)."""
    try:
        top = resolved.get("") or resolved.setdefault("", os.path.realpath(repo))
        target = os.path.join(repo, path)
        if os.path.islink(target):
            real = os.path.realpath(target)
        else:
            folder, name = os.path.split(target)
            if folder not in resolved:
                resolved[folder] = os.path.realpath(folder)
            real = os.path.join(resolved[folder], name)
    except (OSError, ValueError):  # ValueError: a NUL in the name
        return False
    return real == top or real.startswith(top.rstrip("/") + "/")


def _first(repo: Path, rev: str | None, paths: list[str]) -> tuple[str, bytes] | None:
    for path in paths:
        data, _ = read_bytes(repo, rev, path)
        if data is not None:
            return path, data
    return None


def _in_projects(specs_dir: str, rel: str) -> list[str]:
    """`rel` in the Spec Kit project of the specs directory, then at the repository root."""
    root = project_root(specs_dir)
    return list(dict.fromkeys([posixpath.join(root, rel) if root else rel, rel]))


def read_constitution(repo: Path, rev: str | None = None, specs_dir: str = SPECS_DIR) -> Constitution | None:
    found = _first(repo, rev, _in_projects(specs_dir, CONSTITUTION_PATH))
    return parse_constitution(found[1], found[0]) if found else None


def read_standards(repo: Path, rev: str | None = None, specs_dir: str = SPECS_DIR) -> Standards | None:
    """The first of backend/CLAUDE.md, CLAUDE.md, AGENTS.md that exists (the project's, then the root's)."""
    paths = [p for rel in STANDARDS_PATHS for p in _in_projects(specs_dir, rel)]
    found = _first(repo, rev, list(dict.fromkeys(paths)))
    return standards(*found) if found else None
