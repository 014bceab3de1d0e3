"""A push event as the feature folders it changed: from its commit lists, or from git when they may be cut."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.exceptions import FatalError
from bot.git import Change
from bot.speckit import layout as specs
from bot.trigger.bots import Bots
from bot.trigger.payload import checked, optional, required, safe, sha
from bot.trigger.types import (
    FEATURE_NAME_PATTERN,
    FeatureChange,
    FeatureKind,
    Ignored,
    SpecsPushed,
    Trigger,
    is_feature_name,
)

Diff = Callable[[str, str], list[Change]]


TreeHas = Callable[[str, str], bool]


MAX_LISTED_COMMITS = 20  # GitHub lists at most 20 commits in a push event...


MAX_LISTED_FILES = 3000  # ...and at most 3000 paths in each commit's added/modified/removed


CHECKOUT_FIX = (
    "Check out the repository before Specship runs (actions/checkout with fetch-depth: 0), "
    "so it can diff the push's before..after commits."
)


@dataclass(frozen=True)
class _Commit:
    bot: bool
    added: list[str]
    modified: list[str]
    removed: list[str]


def _commits(payload: Mapping[str, Any], bots: Bots) -> list[_Commit]:
    event = "push"
    commits = []
    for i, raw in enumerate(required(payload, "commits", list, event)):
        root = f"commits[{i}]"
        item = checked(raw, dict, root, event)
        lists = {}
        for field in ("added", "modified", "removed"):
            paths = optional(item, field, list, event, root) or []
            lists[field] = [checked(p, str, f"{root}.{field}[{j}]", event) for j, p in enumerate(paths)]
        people = [
            bots.identity(
                optional(item, f"{who}.username", str, event, root),
                optional(item, f"{who}.email", str, event, root),
            )
            for who in ("author", "committer")
        ]
        commits.append(_Commit(any(people), lists["added"], lists["modified"], lists["removed"]))
    return commits


def _net_changes(commits: list[_Commit]) -> list[Change]:
    """The net effect of the listed commits, oldest first: a path added then removed drops out."""
    first: dict[str, str] = {}
    last: dict[str, str] = {}
    for commit in commits:
        for status, paths in (("A", commit.added), ("M", commit.modified), ("D", commit.removed)):
            for path in paths:
                first.setdefault(path, status)
                last[path] = status
    changes = []
    for path in sorted(first):
        existed, exists = first[path] != "A", last[path] != "D"
        if existed or exists:
            changes.append(Change("M" if existed and exists else "A" if exists else "D", path))
    return changes


def parse_push(
    payload: Mapping[str, Any],
    bots: Bots,
    branch_prefix: str,
    diff: Diff | None,
    tree_has: TreeHas | None,
    *,
    specs_dir: str = specs.SPECS_DIR,
) -> Trigger:
    event = "push"
    specs_dir = specs.normalize_dir(specs_dir)
    ref = required(payload, "ref", str, event)
    before, after = sha(payload, "before", event), sha(payload, "after", event)
    if optional(payload, "deleted", bool, event) or not after.strip("0"):
        return Ignored(f"push deletes {safe(ref)}")
    if not ref.startswith("refs/heads/"):
        return Ignored(f"push to {safe(ref)} is not a branch push")
    branch = ref.removeprefix("refs/heads/")
    default_branch = required(payload, "repository.default_branch", str, event)
    if branch.startswith(branch_prefix):
        return Ignored(f"push to Specship's own branch {safe(branch)}")
    if branch != default_branch:
        return Ignored(f"push to {safe(branch)}, not the default branch {safe(default_branch)}")
    sender = required(payload, "sender.login", str, event)
    pusher = required(payload, "pusher.name", str, event)
    if bots.login(sender) or bots.login(pusher):
        return Ignored(f"push by Specship's own account {safe(sender if bots.login(sender) else pusher)}")
    commits = _commits(payload, bots)
    if commits and all(commit.bot for commit in commits):
        return Ignored("every commit of the push is Specship's own")
    forced = bool(optional(payload, "forced", bool, event))
    why_diff = _why_diff(commits, before, bool(optional(payload, "created", bool, event)), forced)
    source: Literal["commits", "diff"] = "diff" if why_diff else "commits"
    if why_diff:
        if diff is None:
            raise FatalError(
                f"The push event cannot tell which files changed ({why_diff}) and no git "
                "checkout was given to diff.",
                CHECKOUT_FIX,
            )
        changes = diff(before, after)
    else:
        changes = _net_changes(commits)
    by_feature, rejected = _group(changes, specs_dir, _spec_probe(changes, before, after, tree_has))
    if not by_feature:
        if rejected:
            return Ignored("push touches no valid spec folder: " + "; ".join(rejected))
        return Ignored(f"push touches nothing under {specs_dir}/<feature>/")
    features = tuple(
        FeatureChange(
            posixpath.basename(folder),
            _kind(folder, found, before, after, tree_has),
            tuple(sorted(found)),
            folder,
        )
        for folder, found in sorted(by_feature.items(), key=lambda item: posixpath.basename(item[0]))
    )
    return SpecsPushed(
        repo=required(payload, "repository.full_name", str, event),
        ref=ref,
        before=before,
        after=after,
        default_branch=default_branch,
        pusher=pusher,
        actor=sender,
        actor_type=required(payload, "sender.type", str, event),
        sender_login=sender,
        features=features,
        source=source,
        forced=forced,
        rejected=tuple(rejected),
        specs_dir=specs_dir,
    )


def _why_diff(commits: list[_Commit], before: str, created: bool, forced: bool) -> str:
    """Why the commit lists cannot be trusted to be complete ('' when they can)."""
    if not before.strip("0") or created:
        return "a new branch"
    if forced:
        return "a force-push"
    if not commits:
        return "no commits listed"
    if len(commits) >= MAX_LISTED_COMMITS:
        return f"{len(commits)} commits listed, GitHub truncates at {MAX_LISTED_COMMITS}"
    for commit in commits:
        if max(len(commit.added), len(commit.modified), len(commit.removed)) >= MAX_LISTED_FILES:
            return f"a commit lists {MAX_LISTED_FILES}+ files, GitHub truncates there"
    return ""


def _group(
    changes: list[Change], specs_dir: str, has_spec: Callable[[str], bool]
) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Changed paths by feature folder ({folder: {path: status}}) and the reasons for rejections.

    A folder is a feature by the one definition (speckit.layout): it holds spec.md (in the push
    or in the tree), or it is named like Spec Kit's own. Its folder name becomes the branch."""
    by_feature: dict[str, dict[str, str]] = {}
    bad: dict[str, str] = {}
    for change in changes:
        if not change.path.startswith(specs_dir + "/"):
            continue
        if specs.unsafe_part(change.path):
            # refused whether or not it would belong to a feature: with `..` it may mean another
            key = specs.owner(change.path, specs_dir, lambda _: False) or change.path
            bad.setdefault(key, f"path {safe(change.path, 80)} is not a plain relative path")
            continue
        folder = specs.owner(change.path, specs_dir, has_spec)
        if folder is None:
            continue  # a file directly in the specs directory, or in no feature folder
        ref = specs.FeatureRef(folder, specs_dir)
        groups = [g for g in ref.relative.split("/")[:-1] if not specs.GROUP_RE.fullmatch(g)]
        if not is_feature_name(ref.name):
            bad.setdefault(folder, f"folder name {safe(ref.name, 40)} fails {FEATURE_NAME_PATTERN}")
        elif groups:
            bad.setdefault(folder, f"folder {safe(groups[0], 40)} fails {specs.GROUP_RE.pattern}")
        else:
            by_feature.setdefault(folder, {})[change.path] = change.status
    for folder in bad:
        by_feature.pop(folder, None)
    return by_feature, list(bad.values())


def _spec_probe(
    changes: list[Change], before: str, after: str, tree_has: TreeHas | None
) -> Callable[[str], bool]:
    """Whether a folder holds spec.md: changed in the push, or in the tree before or after it."""
    changed = {c.path for c in changes}
    seen: dict[str, bool] = {}

    def has_spec(folder: str) -> bool:
        if folder not in seen:
            spec = f"{folder}/spec.md"
            found = spec in changed
            if not found and tree_has is not None and not specs.unsafe_part(folder):
                found = tree_has(after, spec) or (bool(before.strip("0")) and tree_has(before, spec))
            seen[folder] = found
        return seen[folder]

    return has_spec


def _kind(
    folder: str, changes: dict[str, str], before: str, after: str, tree_has: TreeHas | None
) -> FeatureKind:
    """deleted: gone at `after`; new: absent at `before`; edited otherwise."""
    if tree_has is not None:
        if not tree_has(after, folder):
            return "deleted"
        if not before.strip("0") or not tree_has(before, folder):
            return "new"
        return "edited"
    # Without a checkout, judge from the statuses: a folder born in this push has spec.md added.
    statuses = set(changes.values())
    if statuses == {"D"}:
        return "deleted"
    if not before.strip("0") or (statuses == {"A"} and f"{folder}/spec.md" in changes):
        return "new"
    return "edited"
