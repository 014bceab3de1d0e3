"""The work tree as git sees it, untracked files included, through a private index."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bot.git.command import run
from bot.git.hardening import hardened_env
from bot.git.read import Change


@contextlib.contextmanager
def worktree_index(repo: Path, base: str, paths: tuple[str, ...] = ()) -> Iterator[dict[str, str]]:
    """A private index holding the work tree as it is (untracked files too); yields git's env for it."""
    with tempfile.TemporaryDirectory(prefix="specship-index-") as tmp:
        # `add -A` would run a filter planted in the repo's config: neutralise it like a write
        env_extra = {**hardened_env(repo), "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        run(repo, "read-tree", base, extra_env=env_extra)
        run(repo, "add", "-A", "--", *(paths or (".",)), extra_env=env_extra)
        yield env_extra


def worktree_diff(repo: Path, base: str, paths: tuple[str, ...] = ()) -> str:
    """Unified diff from `base` to the work tree, new untracked files included (binary as a stub)."""
    with worktree_index(repo, base, paths) as env_extra:
        out = run(
            repo,
            "diff",
            "--cached",
            "--no-renames",
            "--no-ext-diff",
            "--no-color",
            "--no-textconv",
            base,
            "--",
            *paths,
            extra_env=env_extra,
        )
    return out.decode("utf-8", "replace")


def worktree_changes(repo: Path, base: str) -> list[Change]:
    """Like changed_paths(base, work tree), but new untracked files count as added."""
    with worktree_index(repo, base) as env_extra:
        out = run(
            repo, "diff", "--cached", "--no-renames", "--name-status", "-z", base, "--", extra_env=env_extra
        )
    fields = out.decode("utf-8", "replace").split("\0")
    return [Change(s[0], p) for s, p in zip(fields[0::2], fields[1::2], strict=False) if s and p]


def worktree_tree(repo: Path, base: str) -> str:
    """The tree of the work tree as it is now (untracked files too): equal trees, equal content."""
    with worktree_index(repo, base) as env_extra:
        return run(repo, "write-tree", extra_env=env_extra).decode().strip()
