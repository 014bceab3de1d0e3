"""A bare git repository that the GitHub emulator reads branches, refs and diffs from."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

_IDENTITY = {
    "GIT_AUTHOR_NAME": "Emulator Seed",
    "GIT_AUTHOR_EMAIL": "seed@example.invalid",
    "GIT_COMMITTER_NAME": "Emulator Seed",
    "GIT_COMMITTER_EMAIL": "seed@example.invalid",
}


class GitError(RuntimeError):
    """A git command failed."""


@dataclass(frozen=True)
class CommitInfo:
    """What the API shows about one commit."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    author_date: str
    committer_name: str
    committer_email: str
    committer_date: str
    message: str


@dataclass(frozen=True)
class FileChange:
    """One entry of a pull request's file list."""

    filename: str
    status: str
    sha: str | None
    additions: int
    deletions: int
    patch: str
    previous_filename: str | None = None


_STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}


class BareRepo:
    """Plumbing-level access to one bare repository (argv lists only, never a shell)."""

    def __init__(self, path: Path, default_branch: str) -> None:
        self.path = path
        self.default_branch = default_branch
        self._commit_times: dict[str, float] = {}

    def init(self) -> None:
        """Create the bare repository."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.run("init", "--quiet", "--bare", f"--initial-branch={self.default_branch}")

    def run(self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
        """Run git in the bare repository and return stdout."""
        full_env = {
            **os.environ,
            **_IDENTITY,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            **(env or {}),
        }
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), *args],
            input=stdin,
            capture_output=True,
            env=full_env,
            check=False,
            timeout=30,
        )
        if proc.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode(errors="replace")

    def resolve(self, ref: str) -> str | None:
        """The commit a ref (or sha) points at, or None."""
        try:
            return self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip() or None
        except GitError:
            return None

    def object_type(self, sha: str) -> str | None:
        """`commit`, `tree`, `blob`, `tag`, or None when the object does not exist."""
        try:
            return self.run("cat-file", "-t", sha).strip()
        except GitError:
            return None

    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        """Every ref under prefix mapped to the object it points at."""
        out = self.run("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        pairs = (line.split(" ", 1) for line in out.splitlines() if line)
        return {pair[0]: pair[1] for pair in pairs}

    def branch_sha(self, branch: str) -> str | None:
        """The tip of refs/heads/<branch>, or None."""
        return self.refs(f"refs/heads/{branch}").get(f"refs/heads/{branch}")

    def update_ref(self, ref: str, sha: str, old: str | None = None) -> None:
        """Point ref at sha (optionally only if it currently is old)."""
        self.run("update-ref", ref, sha, *([old] if old is not None else []))

    def delete_ref(self, ref: str) -> None:
        """Delete ref."""
        self.run("update-ref", "-d", ref)

    @staticmethod
    def valid_ref_name(ref: str) -> bool:
        """Whether git accepts ref as a full ref name."""
        proc = subprocess.run(["git", "check-ref-format", ref], capture_output=True, check=False, timeout=10)
        return proc.returncode == 0

    def commit_time(self, sha: str) -> float:
        """The committer time of a commit (epoch seconds), remembered per sha."""
        known = self._commit_times.get(sha)
        if known is None:
            known = self._commit_times[sha] = float(self.run("log", "-1", "--format=%ct", sha, "--").strip())
        return known

    def commit_info(self, sha: str) -> CommitInfo:
        """Author, committer, message, tree and parents of a commit."""
        fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
        fields = self.run("log", "-1", f"--format={fmt}", sha, "--").split("\x00")
        return CommitInfo(
            sha=fields[0],
            tree=fields[1],
            parents=tuple(fields[2].split()),
            author_name=fields[3],
            author_email=fields[4],
            author_date=fields[5],
            committer_name=fields[6],
            committer_email=fields[7],
            committer_date=fields[8],
            message=fields[9].rstrip("\n"),
        )

    def commit_files(
        self,
        branch: str,
        files: dict[str, str | bytes | None],
        message: str,
        start: str | None = None,
    ) -> str:
        """Commit files (None deletes) onto branch; a new branch starts at start (default: the
        default branch, or an empty tree if there is none). Returns the new commit's sha."""
        current = self.branch_sha(branch)
        parent = current or (self.resolve(start or f"refs/heads/{self.default_branch}"))
        index = self.path / f"emulator-index-{os.getpid()}-{threading.get_ident()}"
        env = {"GIT_INDEX_FILE": str(index)}
        lines = []
        for name, content in files.items():
            if content is None:
                lines.append(f"0 {'0' * 40}\t{name}")
                continue
            data = content.encode() if isinstance(content, str) else content
            blob = self.run("hash-object", "-w", "--stdin", stdin=data).strip()
            lines.append(f"100644 {blob}\t{name}")
        try:
            self.run("read-tree", *([parent] if parent else ["--empty"]), env=env)
            self.run("update-index", "--index-info", stdin="\n".join(lines).encode() + b"\n", env=env)
            tree = self.run("write-tree", env=env).strip()
        finally:
            index.unlink(missing_ok=True)
        parents = ["-p", parent] if parent else []
        sha = self.run("commit-tree", "--no-gpg-sign", tree, *parents, "-m", message).strip()
        self.update_ref(f"refs/heads/{branch}", sha, current or "0" * 40)
        return sha

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of a and b, or None."""
        try:
            return self.run("merge-base", a, b).strip() or None
        except GitError:
            return None

    def count_commits(self, base: str, head: str) -> int:
        """How many commits head has that base does not."""
        return int(self.run("rev-list", "--count", f"{base}..{head}").strip() or 0)

    def diff_files(self, base: str, head: str) -> list[FileChange]:
        """The files a pull request from head into base changes (three-dot diff)."""
        start = self.merge_base(base, head) or base
        raw = self.run("diff", "--raw", "-z", "-M", "--no-abbrev", start, head).split("\x00")
        numstat = self.run("diff", "--numstat", "-z", "-M", start, head).split("\x00")
        counts = _parse_numstat(numstat)
        changes: list[FileChange] = []
        i = 0
        while i < len(raw) - 1:
            meta, i = raw[i], i + 1
            if not meta.startswith(":"):
                continue
            parts = meta[1:].split()
            status_letter = parts[4][0]
            old_path = raw[i]
            i += 1
            new_path = old_path
            if status_letter in "RC":
                new_path = raw[i]
                i += 1
            adds, dels = counts.get(new_path, (0, 0))
            patch = self.run("diff", "-M", start, head, "--", *{old_path, new_path})
            hunk_start = patch.find("\n@@")
            changes.append(
                FileChange(
                    filename=new_path,
                    status=_STATUS.get(status_letter, "modified"),
                    sha=None if status_letter == "D" else parts[3],
                    additions=adds,
                    deletions=dels,
                    patch=patch[hunk_start + 1 :].rstrip("\n") if hunk_start >= 0 else "",
                    previous_filename=old_path if status_letter == "R" else None,
                )
            )
        return changes


def _parse_numstat(fields: list[str]) -> dict[str, tuple[int, int]]:
    """Map new path -> (additions, deletions) from `git diff --numstat -z` output."""
    counts: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if not entry:
            continue
        adds, dels, path = entry.split("\t", 2)
        if not path:  # rename: the next two fields are old and new path
            path = fields[i + 1]
            i += 2
        counts[path] = (int(adds) if adds != "-" else 0, int(dels) if dels != "-" else 0)
    return counts
