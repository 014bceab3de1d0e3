"""Commits on the work branch: only the paths asked for (or the whole tree), and WIP checkpoints."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from bot.exceptions import FatalError
from bot.git.command import GitError

CHECKPOINT_TIMEOUT_S = 30.0


class Commits:
    """Mixed into Workdir, which provides the plumbing declared here."""

    path: Path

    def _run(
        self,
        *args: str,
        network: bool = False,
        stdin: bytes | None = None,
        timeout: float = 120,
        env: dict[str, str] | None = None,
    ) -> str:
        raise NotImplementedError

    def _info(self, message: str) -> None:
        raise NotImplementedError

    def _redact(self, text: str) -> str:
        raise NotImplementedError

    def head_sha(self) -> str | None:
        raise NotImplementedError

    def one_config(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def _empty_tree(self) -> str:
        raise NotImplementedError

    def commit_all(self, message: str) -> str | None:
        """Commit the whole work tree as Specship; None (and no commit) when nothing changed.

        For a tree Specship owns entirely (tests, tools). A feature run commits only what its agent
        wrote, with commit_paths.
        """
        with self.one_config():
            self._run("add", "-A", "--", ".")
            return self._commit_tree(self._run("write-tree").strip(), message)

    def commit_paths(self, paths: Iterable[str], message: str, timeout: float = 120) -> str | None:
        """Commit HEAD plus exactly `paths` as they are in the work tree; nothing else rides along.

        An untracked credentials file, or a tracked file another step changed, stays out of the
        commit (uncommitted() lists them). None (and no commit) when those paths did not change.
        """
        with self.one_config():
            tree = self._tree_with(list(paths), timeout)
            sha = self._commit_tree(tree, message, timeout)
            if sha:
                with contextlib.suppress(GitError):  # keeps `git status` truthful; best effort
                    self._run("reset", "-q", timeout=timeout)
        return sha

    def _tree_with(self, paths: list[str], timeout: float) -> str:
        """The tree of HEAD with `paths` staged from the work tree, built in a private index."""
        head = self.head_sha()
        with tempfile.TemporaryDirectory(prefix="specship-index-") as tmp:
            # Literal pathspecs: a path named `*` or `:(glob)x` means just that file.
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), "GIT_LITERAL_PATHSPECS": "1"}
            if head:
                self._run("read-tree", head, env=env, timeout=timeout)
            present = [p for p in paths if (self.path / p).exists() or (self.path / p).is_symlink()]
            if present:
                data = b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in present)
                # -f: a path the agent wrote counts even if a later .gitignore edit covers it.
                self._run("add", "-A", "-f", "--pathspec-from-file=-", "--pathspec-file-nul",
                          stdin=data, env=env, timeout=timeout)  # fmt: skip
            return self._run("write-tree", env=env, timeout=timeout).strip()

    def uncommitted(self, timeout: float = 120) -> list[str]:
        """Paths whose work-tree state no commit holds: changed tracked files and untracked ones
        git does not ignore (what a run left out of its commits)."""
        out = self._run("status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames",
                        "--ignore-submodules=all", timeout=timeout)  # fmt: skip
        return sorted({entry[3:] for entry in out.split("\0") if len(entry) > 3})

    def checkpoint(
        self, message: str, timeout: float = CHECKPOINT_TIMEOUT_S, paths: Iterable[str] | None = None
    ) -> str | None:
        """Commit what the work tree holds as WIP; never raises or prompts (for finally/signal paths).

        With `paths`, only those (the agent's files); else the whole work tree. Stages into a
        private index, so a stale index.lock left by a killed git cannot block it; returns None
        when nothing changed or the commit failed (the failure is logged).
        """
        text = message if message.startswith("WIP") else f"WIP: {message}"
        try:
            self._abort_rebase(timeout)
            tree = self._whole_tree(timeout) if paths is None else self._tree_with(list(paths), timeout)
            sha = self._commit_tree(tree, text, timeout)
            if sha:
                with contextlib.suppress(GitError):  # keeps `git status` truthful; best effort
                    self._run("reset", "-q", timeout=timeout)
            return sha
        except (GitError, OSError, FatalError) as exc:
            self._info(f"checkpoint failed, the work tree is left as it is: {exc}")
            return None

    def _whole_tree(self, timeout: float) -> str:
        with tempfile.TemporaryDirectory(prefix="specship-index-") as tmp:
            index = Path(tmp) / "index"
            real = Path(self._run("rev-parse", "--git-path", "index", timeout=timeout).strip())
            if not real.is_absolute():
                real = self.path / real
            if real.is_file():  # copy2 keeps the mtime git's racy-clean check relies on
                shutil.copy2(real, index)
            env = {"GIT_INDEX_FILE": str(index)}
            self._run("add", "-A", "--", ".", env=env, timeout=timeout)
            return self._run("write-tree", env=env, timeout=timeout).strip()

    def _commit_tree(self, tree: str, message: str, timeout: float = 120) -> str | None:
        # commit-tree + update-ref: no hooks, editor, template, message cleanup or auto-gc on this path.
        head = self.head_sha()
        parent_tree = self._run("rev-parse", f"{head}^{{tree}}", timeout=timeout).strip() if head else ""
        if tree == (parent_tree or self._empty_tree()):
            return None
        parents = ["-p", head] if head else []
        sha = self._run("commit-tree", "--no-gpg-sign", tree, *parents, "-F", "-",
                        stdin=self._redact(message).encode(), timeout=timeout).strip()  # fmt: skip
        self._run("update-ref", "-m", "specship: commit", "HEAD", sha, head or "", timeout=timeout)
        return sha

    def _rebase_in_progress(self, timeout: float = 120) -> bool:
        for name in ("rebase-merge", "rebase-apply"):
            path = Path(self._run("rev-parse", "--git-path", name, timeout=timeout).strip())
            if (path if path.is_absolute() else self.path / path).exists():
                return True
        return False

    def _abort_rebase(self, timeout: float = 120) -> None:
        if self._rebase_in_progress(timeout):
            self._run("rebase", "--abort", timeout=timeout)
