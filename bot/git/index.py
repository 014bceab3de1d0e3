"""The work tree as git sees it, untracked files included, through a private index."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

from bot.git.command import run
from bot.git.hardening import hardened_env
from bot.git.read import Change
from bot.git.written import written


class PrivateIndex:
    """One private index for a whole run, seeded from the repository's own index.

    The real index carries git's stat cache, so `add -A` rehashes only the files that changed
    since the checkout instead of every file of the tree; each later refresh again touches only
    what changed since the last one. The real index is only ever read (copied).
    """

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        self._dir = tempfile.mkdtemp(prefix="specship-index-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, True)
        self.path = Path(self._dir) / "index"
        # `add -A` would run a filter planted in the repo's config: neutralise it like a write
        self.env = {**hardened_env(repo), "GIT_INDEX_FILE": str(self.path)}
        self.seeded = False
        real = Path(run(repo, "rev-parse", "--path-format=absolute", "--git-path", "index").decode().strip())
        if real.is_file():
            shutil.copy2(real, self.path)  # copy2: the mtime is part of git's racy-entry check
            self.seeded = True
        # While `_still` is set (a gate run: see hold) the work tree does not change, so one
        # whole-tree refresh, and the tree written from it, serve every caller until it is cleared.
        self._still: object | None = None
        self._fresh = False
        self._tree: str | None = None

    def hold(self, token: object | None) -> None:
        """`token` (any object) from now on: the caller promises the work tree holds still until
        hold is called again; None: it may change at any time (every refresh runs git)."""
        if token is not self._still:
            self._still, self._fresh, self._tree = token, False, None

    def refresh(self, base: str, paths: tuple[str, ...] = ()) -> dict[str, str]:
        """Bring the index up to the work tree (under `paths`); returns git's env for it."""
        if not self.seeded:
            run(self.repo, "read-tree", base, extra_env=self.env)
            self.seeded = True
        if self._fresh:
            return self.env  # the whole tree was added since the work tree began to hold still
        run(self.repo, "add", "-A", "--", *(paths or (".",)), extra_env=self.env)
        self._fresh = not paths and self._still is not None
        return self.env

    def tree(self, base: str) -> str:
        """The git tree of the work tree as it is now (written once while it holds still)."""
        env = self.refresh(base)
        if self._tree is not None:
            return self._tree
        tree = run(self.repo, "write-tree", extra_env=env).decode().strip()
        if self._still is not None:
            self._tree = tree
        return tree

    def close(self) -> None:
        self._cleanup()


@contextlib.contextmanager
def worktree_index(
    repo: Path, base: str, paths: tuple[str, ...] = (), index: PrivateIndex | None = None
) -> Iterator[dict[str, str]]:
    """A private index holding the work tree as it is (untracked files too); yields git's env for it.

    With `index` the run's own private index is refreshed and reused; without, one is made for
    this call and removed after it.
    """
    if index is not None:
        yield index.refresh(base, paths)
        return
    own = PrivateIndex(repo)
    try:
        yield own.refresh(base, paths)
    finally:
        own.close()


def worktree_diff(
    repo: Path, base: str, paths: tuple[str, ...] = (), index: PrivateIndex | None = None
) -> str:
    """Unified diff from `base` to the work tree, new untracked files included (binary as a stub)."""
    with worktree_index(repo, base, paths, index) as env_extra:
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


def worktree_changes(repo: Path, base: str, index: PrivateIndex | None = None) -> list[Change]:
    """Like changed_paths(base, work tree), but new untracked files count as added."""
    with worktree_index(repo, base, (), index) as env_extra:
        out = run(
            repo, "diff", "--cached", "--no-renames", "--name-status", "-z", base, "--", extra_env=env_extra
        )
    fields = out.decode("utf-8", "replace").split("\0")
    return [Change(s[0], p) for s, p in zip(fields[0::2], fields[1::2], strict=False) if s and p]


def worktree_tree(repo: Path, base: str, index: PrivateIndex | None = None) -> str:
    """The tree of the work tree as it is now (untracked files too): equal trees, equal content."""
    if index is not None:
        return index.tree(base)
    with worktree_index(repo, base, (), None) as env_extra:
        return run(repo, "write-tree", extra_env=env_extra).decode().strip()


def content_key(repo: Path, base: str, index: PrivateIndex | None = None, tree: str | None = None) -> str:
    """A key equal only for equal content the sandbox can see: the tree, plus every file the agent
    wrote (an ignored one is outside the tree but visible to the tests). `tree`: worktree_tree's
    answer, when the caller already has it."""
    digest = hashlib.sha256((tree or worktree_tree(repo, base, index)).encode())
    for rel in sorted(written(repo)):
        digest.update(b"\0" + rel.encode("utf-8", "surrogateescape") + b"\0")
        path = repo / rel
        try:
            data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            digest.update(hashlib.sha256(data).digest())
        except OSError:  # gone or not a file: that, too, is part of the state
            digest.update(b"-")
    return digest.hexdigest()
