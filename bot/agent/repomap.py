"""A compact map of the repository's files for the prompt: one line per directory, capped."""

from __future__ import annotations

import posixpath
from collections import defaultdict
from pathlib import Path

from bot import git

MAX_CHARS = 4_000
# Generated or vendored trees tell the model nothing and cost tokens.
SKIP_PARTS = frozenset(
    {"node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".ruff_cache", "dist", "build"}
)


def repo_map(repo: Path, max_chars: int = MAX_CHARS) -> str:
    """`dir/: a.py b.py` lines for the tracked and untracked files, shallow directories first."""
    by_dir: dict[str, list[str]] = defaultdict(list)
    for path in git.list_files(repo, None, "."):
        parts = path.split("/")
        if SKIP_PARTS.intersection(parts) or parts[0] in (".git", "specs"):
            continue
        by_dir[posixpath.dirname(path) or "."].append(parts[-1])
    lines: list[str] = []
    used = 0
    dirs = sorted(by_dir, key=lambda d: (d.count("/") if d != "." else -1, d))
    for index, directory in enumerate(dirs):
        names = sorted(by_dir[directory])
        shown = " ".join(names[:40]) + (f" (+{len(names) - 40} more)" if len(names) > 40 else "")
        line = f"{directory}/: {shown}" if directory != "." else f"./: {shown}"
        if used + len(line) + 1 > max_chars:
            lines.append(f"… {len(dirs) - index} more directories not shown")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)
