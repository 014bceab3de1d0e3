"""A reused work branch brought up to date with its base: a merge that keeps every human commit."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from bot.exceptions import FatalError
from bot.git.command import GitError

# git arguments -> stdout; raises GitError (Workdir's hardened, redacting runner)
Git = Callable[..., str]
SPECS = "specs/"
MERGE_CONFLICT = (
    "{branch} cannot be brought up to date with {base}: their changes conflict in {files}. "
    "Specship merges only what merges cleanly (a conflict under specs/ goes the base's way) and "
    "pushed nothing."
)
MERGE_CONFLICT_FIX = (
    "Merge {base} into {branch} yourself (`git fetch origin && git switch {branch} && git merge "
    "origin/{base}`), resolve the conflicts, push, then comment `{retry}`."
)


class MergeConflict(FatalError):
    """The base does not merge into the work branch; files are the conflicting paths."""

    def __init__(self, cause: str, fix: str, files: tuple[str, ...]) -> None:
        super().__init__(cause, fix)
        self.files = files


@dataclass(frozen=True)
class Merged:
    """How the branch was updated: the merge commit (None: it already held the base) and the spec
    files whose conflict was settled with the base's text."""

    sha: str | None
    resolved: tuple[str, ...] = ()


def merge_base_into(
    git: Git, *, branch: str, base: str, base_name: str, retry_command: str = "/specship retry"
) -> Merged:
    """Merge `base` into the checked-out `branch` as a merge commit of Specship's identity.

    Never a rebase or a reset: commits people pushed to the branch stay as they are, and the push
    that follows is a fast-forward. A conflict in a file under specs/ takes the base's text: the
    base holds the spec, and Specship's only edits there are its own task ticks, which it makes
    again when the run passes. Any other conflict aborts the merge (the work tree is left as it
    was) and raises MergeConflict naming the files; the caller stops before any model call.
    """
    if git("rev-list", "--count", f"HEAD..{base}").strip() == "0":
        return Merged(None)
    try:
        git("merge", "--no-commit", "--no-ff", "--no-autostash", "--no-edit", "-q", "--", base)
    except GitError as exc:
        conflicts = _conflicts(git)
        if not conflicts:
            _abort(git)
            raise FatalError(
                f"Could not merge {base_name} into {branch}: {exc}", "Commit or stash local changes first."
            ) from None
        others = tuple(p for p in conflicts if not p.startswith(SPECS))
        if others:
            _abort(git)
            files = ", ".join(others[:20]) + (f" and {len(others) - 20} more" if len(others) > 20 else "")
            raise MergeConflict(
                MERGE_CONFLICT.format(branch=branch, base=base_name, files=files),
                MERGE_CONFLICT_FIX.format(branch=branch, base=base_name, retry=retry_command),
                others,
            ) from None
        for path in conflicts:
            _take_base(git, base, path)
    else:
        conflicts = ()
    tree = git("write-tree").strip()
    head = git("rev-parse", "--verify", "HEAD").strip()
    message = f"Specship: merge {base_name} into {branch}"
    sha = git("commit-tree", "--no-gpg-sign", tree, "-p", head, "-p", base, "-m", message).strip()
    git("update-ref", "-m", "specship: merge base", "HEAD", sha, head)
    git("merge", "--quit")  # the merge is concluded by the commit above; forget MERGE_HEAD
    return Merged(sha, conflicts)


def _conflicts(git: Git) -> tuple[str, ...]:
    out = git("diff", "--name-only", "--diff-filter=U", "-z")
    return tuple(dict.fromkeys(p for p in out.split("\0") if p))


def _take_base(git: Git, base: str, path: str) -> None:
    try:
        git("cat-file", "-e", f"{base}:{path}")
    except GitError:  # deleted on the base: deleted here too
        git("rm", "-q", "--force", "--ignore-unmatch", "--", path)
        return
    git("checkout", base, "--", path)


def _abort(git: Git) -> None:
    with contextlib.suppress(GitError):  # nothing was started (a dirty tree refused the merge)
        git("merge", "--abort")
