"""Writing git for the work branch: deterministic branch, commits (see commits.py), lease-guarded pushes."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bot.actions import Runtime
from bot.exceptions import FatalError
from bot.git import outgoing
from bot.git.branch import (
    PUSH_FIX,
    BranchState,
    Identity,
    PushPolicy,
    auth_header,
    check_url,
    derived_secret_forms,
)
from bot.git.command import GitError, run
from bot.git.commits import Commits
from bot.git.hardening import config_entries, hardened_env
from bot.git.merge import merge_base_into
from bot.git.read import rev_parse
from bot.redact import Redactor

NETWORK_TIMEOUT_S = 300.0
RETRY_DELAYS_S = (2.0, 8.0)
MAX_REBASE_ROUNDS = 3
# Messages of failures worth another try: DNS, TCP, TLS, dropped streams, 5xx and 429 answers.
_TRANSIENT = re.compile(
    r"(?i)could not resolve host|connection (?:timed out|refused|reset)|failed to connect|"
    r"operation timed out|timed out after|remote end hung up|early eof|rpc failed|"
    r"returned error: (?:5\d\d|429)|unexpected disconnect|gnutls|ssl_read|http/2 stream"
)
_LEASE_REJECTED = re.compile(r"stale info|fetch first|non-fast-forward")
OTHER_RUN = (
    "Another Specship run pushed to {branch} while this one worked (two issues or commands for the "
    "same feature at once), and this run's commits do not apply on top of its work."
)
OTHER_RUN_FIX = (
    "Nothing of the other run was lost: its work is on the branch. Re-run '{retry}' to build on it; "
    "the example workflow's concurrency group (one run per feature) keeps runs from overlapping."
)


class Workdir(Commits):
    """The checked-out repository Specship writes: every git call hardened, every message redacted."""

    def __init__(
        self,
        path: Path,
        *,
        remote_url: str,
        token: str = "",
        identity: Identity | None = None,
        redactor: Redactor | None = None,
        runtime: Runtime | None = None,
        policy: PushPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        retry_command: str = "/specship retry",
    ) -> None:
        # Masks first: the token must be unprintable before any command could echo it.
        if runtime is not None and token.strip():
            runtime.mask(token)
        self._redactor = redactor or (runtime.redact if runtime else Redactor())
        if token.strip():
            derived_secret_forms(token)
            self._redactor.add(token)
        check_url(remote_url)
        self.path = path
        self.remote_url = remote_url
        self.identity = identity or Identity()
        self.policy = policy or PushPolicy()
        self.retry_command = retry_command
        self._runtime = runtime
        self._token = token
        self._sleep = sleep
        # The remote sha of each branch as Specship last saw it ("" = absent): the lease of the next push.
        self.seen: dict[str, str] = {}
        self._config: list[tuple[str, str | None]] | None = None  # held by one_config()
        self.branch: str | None = None

    # -- plumbing -------------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return self._redactor(text)

    def _info(self, message: str) -> None:
        if self._runtime is not None:
            self._runtime.info(self._redact(message))

    def network_config(self) -> list[tuple[str, str]]:
        """The command-scope config network commands get: the auth header, never written to a file."""
        return [("http.extraheader", auth_header(self._token))] if self._token.strip() else []

    @contextlib.contextmanager
    def one_config(self) -> Iterator[None]:
        """The repository's config read once for a sequence of Specship's own git commands.

        Nothing else runs between them (no tool call, no sandboxed process, no network), so the
        config they are hardened against cannot change in between; every command outside such a
        sequence reads it again, since a config may include a work-tree file the agent can write."""
        if self._config is not None:
            yield
            return
        try:
            self._config = config_entries(self.path)
        except GitError as exc:
            raise GitError(self._redact(str(exc))) from None
        try:
            yield
        finally:
            self._config = None

    def _run(
        self,
        *args: str,
        network: bool = False,
        stdin: bytes | None = None,
        timeout: float = 120,
        env: dict[str, str] | None = None,
    ) -> str:
        try:
            extra = self.network_config() if network else []
            full_env = {
                **hardened_env(self.path, extra, self._config),
                **self.identity.env(),
                # Wins over a hostile core.worktree: git must only ever see this directory.
                "GIT_WORK_TREE": str(self.path),
                **(env or {}),
            }
            out = run(self.path, *args, input_bytes=stdin, timeout=timeout, extra_env=full_env)
        except GitError as exc:
            raise GitError(self._redact(str(exc))) from None
        return out.decode("utf-8", "replace")

    def _network(self, *args: str) -> str:
        """A command that talks to the remote, retried on transient failures with backoff."""
        for delay in (*RETRY_DELAYS_S, None):
            try:
                return self._run(*args, network=True, timeout=NETWORK_TIMEOUT_S)
            except GitError as exc:
                if delay is None or not _TRANSIENT.search(str(exc)):
                    raise
                self._info(f"git {args[0]}: transient failure, retrying in {delay:g} s: {exc}")
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _refuse_rewritten_url(self, push: bool) -> None:
        # url.<base>.insteadOf would send the auth header to another host; it cannot be unset by override.
        keys = (".insteadof", ".pushinsteadof") if push else (".insteadof",)
        for name, value in config_entries(self.path):
            low = name.lower()
            if low.startswith("url.") and low.endswith(keys) and self.remote_url.startswith(value or ""):
                raise FatalError(
                    f"The git config rewrites the remote URL ({name[:100]}); the token is not sent there.",
                    f"Remove {name[:100]} from the repository's git config.",
                )

    # -- queries --------------------------------------------------------------------------------

    def head_sha(self) -> str | None:
        """The commit HEAD points at (None on an unborn branch)."""
        return rev_parse(self.path, "HEAD")

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of two commits, or None when the histories are unrelated."""
        try:
            return self._run("merge-base", a, b).strip() or None
        except GitError:
            return None

    def _empty_tree(self) -> str:
        return self._run("hash-object", "-t", "tree", "/dev/null").strip()

    def remote_sha(self, branch: str) -> str | None:
        """The sha of `branch` on the remote now, or None when it does not exist there."""
        self._refuse_rewritten_url(push=False)
        ref = f"refs/heads/{branch}"
        out = self._network("ls-remote", "--", self.remote_url, ref)
        for line in out.splitlines():
            sha, _, name = line.partition("\t")
            if name == ref:
                return sha
        return None

    def fetch(self, branch: str) -> str | None:
        """Fetch `branch` into a private ref (nothing persisted names the remote); its sha, or None."""
        sha = self.remote_sha(branch)
        if sha is not None:
            local = f"refs/specship-remote/{branch}"
            self._network("fetch", "--no-tags", "--no-recurse-submodules", "--no-write-fetch-head",
                          "--", self.remote_url, f"+refs/heads/{branch}:{local}")  # fmt: skip
        self.seen[branch] = sha or ""
        return sha

    # -- branch ---------------------------------------------------------------------------------

    def prepare_branch(
        self, branch: str, base: str, *, update: bool = True, base_name: str = ""
    ) -> BranchState:
        """Check out the work branch: the remote's when it exists (reuse), else a new one at `base`.

        A reused branch is brought up to date with `base` (update): `base` is merged into it, so
        the agent works on the current code and spec and the gates, judged against `base`, see
        only the branch's own changes. MergeConflict (nothing changed) when that does not merge."""
        self.policy.check(branch)
        remote = self.fetch(branch)
        start = remote or rev_parse(self.path, base)
        if start is None:
            raise FatalError(
                f"The base revision {base[:100]!r} does not exist.", "Check the base-branch setting."
            )
        try:
            self._run("checkout", "-q", "--no-track", "--no-recurse-submodules", "-B", branch, start, "--")
        except GitError as exc:
            raise FatalError(
                f"Could not check out {branch}: {exc}", "Commit or stash local changes, then run again."
            ) from None
        self.branch = branch
        self._info(
            f"work branch {branch}: " + ("reusing the remote branch" if remote else f"new at {start[:12]}")
        )
        if remote is None or not update:
            return BranchState(branch, start, remote, remote is not None)
        target = rev_parse(self.path, base) or base
        merged = merge_base_into(
            self._run,
            branch=branch,
            base=target,
            base_name=base_name or base,
            retry_command=self.retry_command,
        )
        if merged.sha is not None:
            self._info(f"merged {base_name or base[:12]} into {branch} ({merged.sha[:12]})")
        for path in merged.resolved:
            self._info(f"{path}: conflict settled with the base's version (specs are the base's)")
        return BranchState(branch, self.head_sha() or start, remote, True, merged.sha, merged.resolved)

    # -- push -----------------------------------------------------------------------------------

    def push(self, branch: str | None = None, lease: str | None = None) -> str:
        """Push HEAD to `branch` with a lease on the sha Specship last saw there; returns the pushed sha.

        When someone else moved the branch, Specship's new commits are rebased onto theirs and
        pushed again; when they do not apply, FatalError, and the remote branch is left as it is.
        """
        branch = branch or self.branch or ""
        self.policy.check(branch)  # before any git command
        if lease is None and branch not in self.seen:
            raise ValueError(f"no lease for {branch}: prepare_branch() it or pass the expected sha")
        expected = self.seen[branch] if lease is None else lease
        self._refuse_rewritten_url(push=True)
        for _ in range(MAX_REBASE_ROUNDS):
            head = self.head_sha()
            if head is None:
                raise FatalError("There is no commit to push.", "Commit the work first.")
            self._refuse_secrets(branch, head, expected)
            self._info(f"pushing {head[:12]} to {branch} (lease: {expected[:12] or 'new branch'})")
            try:
                self._network("push", "--no-verify", "--no-signed", "--no-follow-tags",
                              "--recurse-submodules=no", f"--force-with-lease=refs/heads/{branch}:{expected}",
                              "--", self.remote_url, f"{head}:refs/heads/{branch}")  # fmt: skip
            except GitError as exc:
                if "remote rejected" in str(exc) or not _LEASE_REJECTED.search(str(exc)):
                    raise FatalError(f"git push to {branch} failed: {exc}", PUSH_FIX) from None
                expected = self._integrate(branch, expected)
                continue
            self.seen[branch] = head
            return head
        raise FatalError(
            f"The branch {branch} kept changing while Specship pushed.",
            f"Wait until nobody pushes to it, then re-run '{self.retry_command}'.",
        )

    def _refuse_secrets(self, branch: str, head: str, expected: str) -> None:
        """Before any push: scan what it would send; a high-confidence secret keeps it local."""
        known = [expected, *self.seen.values()]
        if not expected and not outgoing.outgoing_commits(self.path, head, known):
            raise FatalError(outgoing.NOTHING_NEW.format(branch=branch), "Commit the work first.")
        leaks = outgoing.scan_outgoing(self.path, head, known, self._redactor.contains_secret)
        if leaks:
            where = outgoing.describe(leaks)
            raise FatalError(
                outgoing.LEAK_BLOCKED.format(branch=branch, count=len(leaks), where=where),
                outgoing.LEAK_FIX.format(sha=head[:12], path=self.path, retry=self.retry_command),
            )

    def _integrate(self, branch: str, ours_from: str) -> str:
        """Rebase Specship's commits (ours_from..HEAD) onto the branch as it now is; its new lease."""
        remote = self.fetch(branch)
        if remote is None:
            self._info(f"{branch} was deleted on the remote; pushing it as a new branch")
            return ""
        self._info(f"{branch} changed on the remote ({remote[:12]}); rebasing Specship's commits onto it")
        upstream = ours_from or self.merge_base(remote, "HEAD")
        try:
            if not upstream:
                raise GitError("unrelated histories")
            # --rebase-merges: the merge of the base (prepare_branch) is made again on top, not
            # flattened into copies of the base's commits.
            self._run("rebase", "-q", "--rebase-merges", "--no-verify", "--no-autosquash", "--no-autostash",
                      "--no-gpg-sign", "--onto", remote, upstream, branch)  # fmt: skip
        except GitError as exc:
            # A conflict leaves a rebase in progress; anything else (a dirty tree) never started one.
            stopped = not upstream or self._rebase_in_progress()
            try:
                self._abort_rebase()
            except GitError as abort_exc:
                self._info(f"could not abort the rebase: {abort_exc}")
            if not stopped:
                raise FatalError(
                    f"Could not rebase {branch}: {exc}", "Commit or stash local changes first."
                ) from None
            if upstream and self._only_ours(upstream, remote):
                fix = OTHER_RUN_FIX.format(retry=self.retry_command)
                raise FatalError(OTHER_RUN.format(branch=branch), fix) from None
            raise FatalError(
                f"branch {branch} changed by a human and Specship's commits do not apply on top.",
                f"Re-run '{self.retry_command}' to start again from the branch as it is now "
                "(the human commits stay on it).",
            ) from None
        return remote

    def _only_ours(self, upstream: str, remote: str) -> bool:
        """True when every commit that moved the branch was committed with Specship's identity."""
        try:
            emails = self._run("log", "--format=%ce", f"{upstream}..{remote}").split()
        except GitError:
            return False
        return bool(emails) and all(e.lower() == self.identity.email.lower() for e in emails)
