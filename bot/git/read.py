"""Read-only git queries (files at a revision, changed paths), run with repository hooks and filters off."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.exceptions import FatalError

ZERO_SHA = "0" * 40

# A hostile .git/config can name hooks, fsmonitor commands or filters that git would run for us;
# these options make every git call ignore them.
HARDENING: tuple[str, ...] = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "core.untrackedCache=false",
    "-c", "protocol.ext.allow=never",
    "-c", "protocol.file.allow=user",
    "-c", "core.sshCommand=false",
    "-c", "diff.external=",
    "-c", "core.pager=cat",
)  # fmt: skip


class GitError(Exception):
    """A git command failed; carries its stderr."""


def git_env() -> dict[str, str]:
    """The environment for git: no system config, no prompts, no pager, a fixed locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="",
        SSH_ASKPASS="",
        LC_ALL="C",
        GIT_ATTR_NOSYSTEM="1",
    )
    return env


def git(
    repo: Path,
    *args: str,
    input_bytes: bytes | None = None,
    timeout: float = 120,
    extra_env: dict[str, str] | None = None,
) -> bytes:
    """Run one hardened git command in `repo`; returns stdout, raises GitError on failure."""
    argv = ["git", *HARDENING, *args]
    try:
        proc = subprocess.run(
            argv,
            cwd=repo,
            input=input_bytes,
            capture_output=True,
            env={**git_env(), **(extra_env or {})},
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise FatalError("git is not installed.", "Install git (2.30 or newer).") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} timed out after {timeout:g} s") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise GitError(f"git {' '.join(args[:2])} failed: {message}")
    return proc.stdout


def is_repo(repo: Path) -> bool:
    """True when `repo` is inside a git work tree."""
    try:
        return git(repo, "rev-parse", "--is-inside-work-tree").strip() == b"true"
    except GitError:
        return False


def rev_parse(repo: Path, rev: str) -> str | None:
    """The full SHA of a commit-ish, or None when it does not exist."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    except GitError:
        return None


def show_file(repo: Path, rev: str | None, path: str) -> bytes | None:
    """The bytes of `path` at `rev` (None: the work tree); None when it does not exist there."""
    if rev is None:
        target = repo / path
        return target.read_bytes() if target.is_file() else None
    try:
        return git(repo, "cat-file", "blob", f"{rev}:{path}")
    except GitError:
        return None


def list_files(repo: Path, rev: str | None, prefix: str) -> list[str]:
    """Repo-relative paths of the files under `prefix` at `rev` (None: tracked and untracked files)."""
    prefix = prefix.rstrip("/")
    if rev is None:
        if not is_repo(repo):
            root = repo / prefix
            found = (p.relative_to(repo).as_posix() for p in root.rglob("*") if p.is_file())
            return sorted(found) if root.is_dir() else []
        out = git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", prefix)
        names = {name for name in out.decode("utf-8", "replace").split("\0") if name}
        return sorted(name for name in names if (repo / name).is_file())
    try:
        out = git(repo, "ls-tree", "-r", "-z", "--name-only", rev, "--", prefix)
    except GitError:
        return []
    return sorted(name for name in out.decode("utf-8", "replace").split("\0") if name)


@dataclass(frozen=True)
class Change:
    """One changed path between two revisions: status is A, M, D or T."""

    status: str
    path: str


def changed_paths(repo: Path, base: str, head: str | None) -> list[Change]:
    """Paths changed from `base` to `head` (None: the work tree), renames split into D + A."""
    if base == ZERO_SHA:
        base = git(repo, "hash-object", "-t", "tree", "/dev/null").decode().strip()
    revs = [base] if head is None else [base, head]
    out = git(repo, "diff", "--no-renames", "--name-status", "-z", "--no-ext-diff", *revs, "--")
    fields = out.decode("utf-8", "replace").split("\0")
    changes = []
    for status, path in zip(fields[0::2], fields[1::2], strict=False):
        if status and path:
            changes.append(Change(status[0], path))
    return changes


def diff(repo: Path, base: str, head: str | None, *paths: str) -> bytes:
    """The unified diff from `base` to `head` (None: the work tree) of `paths`; no external or
    textconv drivers, so a hostile .gitattributes cannot run commands."""
    if base == ZERO_SHA:
        base = git(repo, "hash-object", "-t", "tree", "/dev/null").decode().strip()
    revs = [base] if head is None else [base, head]
    return git(
        repo, "diff", "--no-renames", "--no-ext-diff", "--no-textconv", "--no-color", *revs, "--", *paths
    )


@contextlib.contextmanager
def _worktree_index(repo: Path, base: str, paths: tuple[str, ...] = ()) -> Iterator[dict[str, str]]:
    """A private index holding the work tree as it is (untracked files too); yields git's env for it."""
    with tempfile.TemporaryDirectory(prefix="specship-index-") as tmp:
        # `add -A` would run a filter planted in the repo's config: neutralise it like a write
        env_extra = {**hardened_env(repo), "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(repo, "read-tree", base, extra_env=env_extra)
        git(repo, "add", "-A", "--", *(paths or (".",)), extra_env=env_extra)
        yield env_extra


def worktree_diff(repo: Path, base: str, paths: tuple[str, ...] = ()) -> str:
    """Unified diff from `base` to the work tree, new untracked files included (binary as a stub)."""
    with _worktree_index(repo, base, paths) as env_extra:
        out = git(
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
    with _worktree_index(repo, base) as env_extra:
        out = git(
            repo, "diff", "--cached", "--no-renames", "--name-status", "-z", base, "--", extra_env=env_extra
        )
    fields = out.decode("utf-8", "replace").split("\0")
    return [Change(s[0], p) for s, p in zip(fields[0::2], fields[1::2], strict=False) if s and p]


def worktree_tree(repo: Path, base: str) -> str:
    """The tree of the work tree as it is now (untracked files too): equal trees, equal content."""
    with _worktree_index(repo, base) as env_extra:
        return git(repo, "write-tree", extra_env=env_extra).decode().strip()


# Appended for bot/git.py (writing commands): the static HARDENING above cannot name the keys a
# hostile .git/config (or a file it includes) invents, such as filter.<x>.clean or
# merge.<x>.driver, so these read the effective config and override each command-running key at
# command scope (GIT_CONFIG_COUNT: no `-c` parsing of names holding '=', and nothing in argv).

# (section, key) of `section.<sub>.key` names -> the harmless value. An empty filter command or
# textconv means "no filter" (an empty `process` also stops `clean` from being used, and
# required=false keeps "no filter" from being an error); `false` makes a merge driver or signer
# fail closed (a conflict or an error) instead of running; `true` is a no-op command. Only keys
# that are set get overridden: a key that is unset already runs nothing.
_SUBSECTION_OVERRIDES: dict[tuple[str, str], str] = {
    ("filter", "clean"): "", ("filter", "smudge"): "", ("filter", "process"): "",
    ("filter", "required"): "false",
    ("diff", "textconv"): "", ("diff", "command"): "",
    ("merge", "driver"): "false",
    ("credential", "helper"): "",
    ("gpg", "program"): "false",
    ("trailer", "command"): "true", ("trailer", "cmd"): "true",
    ("hook", "command"): "true",
    ("remote", "uploadpack"): "git-upload-pack", ("remote", "receivepack"): "git-receive-pack",
    ("remote", "vcs"): "",
    ("http", "sslverify"): "true",
}  # fmt: skip

# Set on every writing command, present in the config or not.
FIXED_OVERRIDES: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"), ("core.fsmonitor", "false"), ("core.untrackedCache", "false"),
    ("core.sshCommand", "false"), ("core.askPass", ""), ("core.editor", "true"),
    ("core.pager", "cat"), ("core.alternateRefsCommand", ""), ("sequence.editor", "true"),
    ("credential.helper", ""), ("diff.external", ""), ("uploadpack.packObjectsHook", ""),
    ("gpg.program", "false"), ("gpg.ssh.program", "false"), ("gpg.x509.program", "false"),
    ("gpg.ssh.defaultKeyCommand", ""), ("commit.gpgSign", "false"), ("tag.gpgSign", "false"),
    ("push.gpgSign", "false"), ("log.showSignature", "false"), ("merge.verifySignatures", "false"),
    ("rebase.updateRefs", "false"), ("rebase.autoStash", "false"), ("rebase.autoSquash", "false"),
    ("rerere.enabled", "false"), ("gc.auto", "0"), ("maintenance.auto", "false"),
    ("submodule.recurse", "false"), ("fetch.recurseSubmodules", "false"),
    ("push.recurseSubmodules", "no"), ("http.sslVerify", "true"),
    ("protocol.ext.allow", "never"), ("protocol.file.allow", "user"),
)  # fmt: skip


def config_entries(repo: Path) -> list[tuple[str, str | None]]:
    """The effective config of `repo` (every scope, includes honoured) as (name, value) pairs."""
    out = git(repo, "config", "--includes", "-z", "--list").decode("utf-8", "surrogateescape")
    entries: list[tuple[str, str | None]] = []
    for record in out.split("\0"):
        if record:
            name, newline, value = record.partition("\n")
            entries.append((name, value if newline else None))
    return entries


def neutralizing_config(entries: list[tuple[str, str | None]]) -> list[tuple[str, str]]:
    """Overrides that make every command-running key of `entries` harmless (FIXED_OVERRIDES first)."""
    overrides = dict.fromkeys(FIXED_OVERRIDES)
    for name, _value in entries:
        section, dot, rest = name.partition(".")
        sub, dot2, key = rest.rpartition(".")
        if not (dot and dot2 and sub):
            continue
        harmless = _SUBSECTION_OVERRIDES.get((section.lower(), key.lower()))
        if harmless is not None:
            overrides[(f"{section.lower()}.{sub}.{key.lower()}", harmless)] = None
    return list(overrides)


def config_env(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Command-scope config as environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n, git 2.31+)."""
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for index, (name, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{index}"] = name
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def hardened_env(repo: Path, extra: list[tuple[str, str]] | None = None) -> dict[str, str]:
    """extra_env for a writing git command in `repo`: hostile config neutralised, no editors,
    no replace refs; `extra` config pairs (such as an auth header) come last."""
    pairs = neutralizing_config(config_entries(repo)) + list(extra or [])
    return {
        "GIT_EDITOR": "true",
        "GIT_SEQUENCE_EDITOR": "true",
        "GIT_MERGE_AUTOEDIT": "no",
        "GIT_NO_REPLACE_OBJECTS": "1",
        **config_env(pairs),
    }


def numstat(repo: Path, base: str, head: str) -> list[tuple[int | None, int | None, str]]:
    """`git diff --numstat` rows (added, deleted, path); binary files count as None."""
    if base == ZERO_SHA:
        base = git(repo, "hash-object", "-t", "tree", "/dev/null").decode().strip()
    out = git(
        repo, "diff", "--numstat", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", base, head, "--"
    )
    rows = []
    for record in out.decode("utf-8", "replace").split("\0"):
        if not record:
            continue
        added, deleted, path = record.split("\t", 2)
        rows.append((None if added == "-" else int(added), None if deleted == "-" else int(deleted), path))
    return rows
