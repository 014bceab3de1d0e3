"""GitHub event -> one typed Trigger: IssueLabeled, SpecsPushed, PrCommand, IssueCommand or Ignored."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from bot.exceptions import FatalError
from bot.git.read import Change, GitError, changed_paths, list_files
from bot.trigger.grammar import Verb, parse_command
from bot.trigger.payload import _PAYLOAD_FIX, _check, _get, _json_kind, _opt, _sha, safe

FeatureKind = Literal["new", "edited", "deleted"]
CommentKind = Literal["issue_comment", "review", "review_comment"]
Diff = Callable[[str, str], list[Change]]
TreeHas = Callable[[str, str], bool]

FEATURE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
_FEATURE_NAME = re.compile(FEATURE_NAME_PATTERN.strip("^$"))
_NOREPLY = re.compile(r"(?:\d+\+)?(?P<login>[^@\s]+)@users\.noreply\.github\.com")
DEFAULT_BOT_LOGINS = ("specship[bot]", "github-actions[bot]")
DEFAULT_BOT_EMAILS = (
    "specship[bot]@users.noreply.github.com",
    "41898282+github-actions[bot]@users.noreply.github.com",
)
MAX_LISTED_COMMITS = 20  # GitHub lists at most 20 commits in a push event...
MAX_LISTED_FILES = 3000  # ...and at most 3000 paths in each commit's added/modified/removed
MAX_EVENT_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB

_ENV_FIX = (
    "Run Specship as a step of a GitHub Actions workflow, or set GITHUB_EVENT_NAME and "
    "GITHUB_EVENT_PATH (a webhook payload JSON file) to replay an event locally."
)
_CHECKOUT_FIX = (
    "Check out the repository before Specship runs (actions/checkout with fetch-depth: 0), "
    "so it can diff the push's before..after commits."
)


@dataclass(frozen=True)
class Ignored:
    """The event is not for Specship; `reason` says why (safe to log)."""

    reason: str


@dataclass(frozen=True)
class IssueLabeled:
    """The trigger label was put on an issue; title and body are untrusted text, carried as-is."""

    repo: str
    issue_number: int
    title: str
    body: str
    label: str
    actor: str
    actor_type: str
    sender_login: str
    issue_author: str
    issue_state: str
    default_branch: str


@dataclass(frozen=True)
class FeatureChange:
    """One spec folder a push touched: `specs/<name>/`, its kind and the changed paths."""

    name: str
    kind: FeatureKind
    paths: tuple[str, ...]


@dataclass(frozen=True)
class SpecsPushed:
    """A push to the default branch changed one or more `specs/<feature>/` folders.

    `source` is "commits" when the payload's commit lists were complete, "diff" when they may be
    truncated (20+ commits, 3000+ files, none listed) or do not describe before..after (a new
    branch, a force-push) and git was asked. `rejected` holds the reasons for unsafe folder names.
    """

    repo: str
    ref: str
    before: str
    after: str
    default_branch: str
    pusher: str
    actor: str
    actor_type: str
    sender_login: str
    features: tuple[FeatureChange, ...]
    source: Literal["commits", "diff"]
    forced: bool
    rejected: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrCommand:
    """A `/specship <verb>` command on a pull request (comment, review or review comment)."""

    repo: str
    pr_number: int
    verb: Verb
    text: str
    comment_id: int
    comment_kind: CommentKind
    actor: str
    actor_type: str
    sender_login: str
    created_at: str
    head_sha: str | None
    is_fork: bool | None
    note: str = ""


@dataclass(frozen=True)
class IssueCommand:
    """A `/specship <verb>` comment on a plain issue (answering clarification questions, retry).

    A separate type from PrCommand because there is no PR head or fork to check; which verbs mean
    something on an issue is dispatch's decision.
    """

    repo: str
    issue_number: int
    verb: Verb
    text: str
    comment_id: int
    actor: str
    actor_type: str
    sender_login: str
    created_at: str
    note: str = ""


Trigger = IssueLabeled | SpecsPushed | PrCommand | IssueCommand | Ignored


def is_feature_name(name: str) -> bool:
    """True when `name` is an acceptable `specs/<name>/` folder name."""
    return _FEATURE_NAME.fullmatch(name) is not None


# ---- entry points ---------------------------------------------------------------------------


def load_event(env: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The event name and payload object named by GITHUB_EVENT_NAME and GITHUB_EVENT_PATH."""
    name = env.get("GITHUB_EVENT_NAME", "")
    if not name:
        raise FatalError("GITHUB_EVENT_NAME is not set.", _ENV_FIX)
    if not re.fullmatch(r"[a-z_]{1,64}", name):
        raise FatalError(f"GITHUB_EVENT_NAME {safe(name)} is not a GitHub event name.", _ENV_FIX)
    raw_path = env.get("GITHUB_EVENT_PATH", "")
    if not raw_path:
        raise FatalError("GITHUB_EVENT_PATH is not set.", _ENV_FIX)
    path = Path(raw_path)
    fix = f"Point GITHUB_EVENT_PATH at the {name} webhook payload file. {_ENV_FIX}"
    try:
        size = path.stat().st_size
        if size > MAX_EVENT_BYTES:
            raise FatalError(
                f"The event file {safe(raw_path, 200)} is {size} bytes, over GitHub's "
                f"{MAX_EVENT_BYTES}-byte payload limit.",
                fix,
            )
        data = path.read_bytes()
    except OSError as exc:
        raise FatalError(
            f"Cannot read the event file GITHUB_EVENT_PATH={safe(raw_path, 200)}: {exc.strerror or exc}.",
            fix,
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FatalError(
            f"The event file {safe(raw_path, 200)} is not UTF-8 (byte {exc.start}).", fix
        ) from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FatalError(
            f"The event file {safe(raw_path, 200)} is not valid JSON: {exc.msg} "
            f"at line {exc.lineno} column {exc.colno}.",
            fix,
        ) from None
    if not isinstance(payload, dict):
        raise FatalError(
            f"The event file {safe(raw_path, 200)} holds {_json_kind(payload)}, expected a JSON object.",
            fix,
        )
    return name, payload


def parse_event(
    event_name: str,
    payload: Mapping[str, Any],
    *,
    trigger_label: str = "specship",
    command_prefix: str = "/specship",
    bot_logins: Collection[str] = DEFAULT_BOT_LOGINS,
    bot_emails: Collection[str] = DEFAULT_BOT_EMAILS,
    branch_prefix: str = "specship/",
    diff: Diff | None = None,
    tree_has: TreeHas | None = None,
) -> Trigger:
    """Exactly one Trigger for a GitHub event; authorization is left to dispatch."""
    if not isinstance(payload, Mapping):
        raise FatalError(
            f"The {event_name} event payload is {_json_kind(payload)}, expected an object.",
            _PAYLOAD_FIX,
        )
    bots = _Bots(bot_logins, bot_emails)
    if event_name == "issues":
        return _issues(payload, trigger_label, bots)
    if event_name == "push":
        return _push(payload, bots, branch_prefix, diff, tree_has)
    if event_name in ("issue_comment", "pull_request_review", "pull_request_review_comment"):
        return _comment(event_name, payload, command_prefix, bots)
    return Ignored(f"event {safe(event_name)} does not trigger Specship")


def git_callables(repo: Path) -> tuple[Diff, TreeHas]:
    """The `diff` and `tree_has` callables of parse_event, backed by hardened git in `repo`."""

    def diff(base: str, head: str) -> list[Change]:
        try:
            return changed_paths(repo, base, head)
        except GitError as exc:
            raise FatalError(
                f"Cannot list the files changed by the push {base[:12]}..{head[:12]}: {exc}",
                _CHECKOUT_FIX,
            ) from None

    def tree_has(rev: str, path: str) -> bool:
        return bool(list_files(repo, rev, path))

    return diff, tree_has


# ---- the event kinds ------------------------------------------------------------------------


class _Bots:
    """Specship's own identities (logins and commit emails), compared case-insensitively."""

    def __init__(self, logins: Collection[str], emails: Collection[str]) -> None:
        self.logins = {login.casefold() for login in logins}
        self.emails = {email.casefold() for email in emails}

    def login(self, login: str | None) -> bool:
        return login is not None and login.casefold() in self.logins

    def identity(self, username: str | None, email: str | None) -> bool:
        if self.login(username):
            return True
        if email is None:
            return False
        match = _NOREPLY.fullmatch(email.casefold())
        return email.casefold() in self.emails or bool(match and self.login(match["login"]))


def _issues(payload: Mapping[str, Any], trigger_label: str, bots: _Bots) -> Trigger:
    event = "issues"
    action = _get(payload, "action", str, event)
    if action != "labeled":
        return Ignored(f"issues/{safe(action, 30)} is not a trigger (only issues/labeled is)")
    label = _get(payload, "label.name", str, event)
    if label.casefold() != trigger_label.casefold():
        return Ignored(f"label {safe(label)} is not the trigger label {safe(trigger_label)}")
    sender = _get(payload, "sender.login", str, event)
    if bots.login(sender):
        return Ignored(f"label added by Specship's own account {safe(sender)}")
    return IssueLabeled(
        repo=_get(payload, "repository.full_name", str, event),
        issue_number=_get(payload, "issue.number", int, event),
        title=_get(payload, "issue.title", str, event),
        body=_opt(payload, "issue.body", str, event) or "",
        label=label,
        actor=sender,
        actor_type=_get(payload, "sender.type", str, event),
        sender_login=sender,
        issue_author=_get(payload, "issue.user.login", str, event),
        issue_state=_opt(payload, "issue.state", str, event) or "open",
        default_branch=_get(payload, "repository.default_branch", str, event),
    )


def _comment(event: str, payload: Mapping[str, Any], prefix: str, bots: _Bots) -> Trigger:
    wanted, key, kind, stamp = {
        "issue_comment": ("created", "comment", "issue_comment", "created_at"),
        "pull_request_review": ("submitted", "review", "review", "submitted_at"),
        "pull_request_review_comment": ("created", "comment", "review_comment", "created_at"),
    }[event]
    action = _get(payload, "action", str, event)
    if action != wanted:
        return Ignored(f"{event}/{safe(action, 30)} is not read (only {event}/{wanted} is)")
    author = _get(payload, f"{key}.user.login", str, event)
    sender = _get(payload, "sender.login", str, event)
    if bots.login(author) or bots.login(sender):
        return Ignored(f"{kind.replace('_', ' ')} by Specship's own account {safe(author)}")
    body = _opt(payload, f"{key}.body", str, event) or ""
    command = parse_command(body, prefix)
    if command is None:
        return Ignored(f"{kind.replace('_', ' ')} is not a {prefix} command")
    common: dict[str, Any] = {
        "repo": _get(payload, "repository.full_name", str, event),
        "verb": command.verb,
        "text": command.text,
        "note": command.note,
        "comment_id": _get(payload, f"{key}.id", int, event),
        "actor": author,
        "actor_type": _get(payload, f"{key}.user.type", str, event),
        "sender_login": sender,
        "created_at": _opt(payload, f"{key}.{stamp}", str, event) or "",
    }
    if event == "issue_comment":
        number = _get(payload, "issue.number", int, event)
        if _opt(payload, "issue.pull_request", dict, event) is None:
            return IssueCommand(issue_number=number, **common)
        return PrCommand(
            pr_number=number, comment_kind="issue_comment", head_sha=None, is_fork=None, **common
        )
    base_repo = _get(payload, "pull_request.base.repo.full_name", str, event)
    head_repo = _opt(payload, "pull_request.head.repo", dict, event)
    is_fork = head_repo is None or (
        _get(payload, "pull_request.head.repo.full_name", str, event).casefold() != base_repo.casefold()
    )
    return PrCommand(
        pr_number=_get(payload, "pull_request.number", int, event),
        comment_kind=cast(CommentKind, kind),
        head_sha=_sha(payload, "pull_request.head.sha", event),
        is_fork=is_fork,
        **common,
    )


@dataclass(frozen=True)
class _Commit:
    bot: bool
    added: list[str]
    modified: list[str]
    removed: list[str]


def _commits(payload: Mapping[str, Any], bots: _Bots) -> list[_Commit]:
    event = "push"
    commits = []
    for i, raw in enumerate(_get(payload, "commits", list, event)):
        root = f"commits[{i}]"
        item = _check(raw, dict, root, event)
        lists = {}
        for field in ("added", "modified", "removed"):
            paths = _opt(item, field, list, event, root) or []
            lists[field] = [_check(p, str, f"{root}.{field}[{j}]", event) for j, p in enumerate(paths)]
        people = [
            bots.identity(
                _opt(item, f"{who}.username", str, event, root),
                _opt(item, f"{who}.email", str, event, root),
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


def _push(
    payload: Mapping[str, Any],
    bots: _Bots,
    branch_prefix: str,
    diff: Diff | None,
    tree_has: TreeHas | None,
) -> Trigger:
    event = "push"
    ref = _get(payload, "ref", str, event)
    before, after = _sha(payload, "before", event), _sha(payload, "after", event)
    if _opt(payload, "deleted", bool, event) or not after.strip("0"):
        return Ignored(f"push deletes {safe(ref)}")
    if not ref.startswith("refs/heads/"):
        return Ignored(f"push to {safe(ref)} is not a branch push")
    branch = ref.removeprefix("refs/heads/")
    default_branch = _get(payload, "repository.default_branch", str, event)
    if branch.startswith(branch_prefix):
        return Ignored(f"push to Specship's own branch {safe(branch)}")
    if branch != default_branch:
        return Ignored(f"push to {safe(branch)}, not the default branch {safe(default_branch)}")
    sender = _get(payload, "sender.login", str, event)
    pusher = _get(payload, "pusher.name", str, event)
    if bots.login(sender) or bots.login(pusher):
        return Ignored(f"push by Specship's own account {safe(sender if bots.login(sender) else pusher)}")
    commits = _commits(payload, bots)
    if commits and all(commit.bot for commit in commits):
        return Ignored("every commit of the push is Specship's own")
    forced = bool(_opt(payload, "forced", bool, event))
    why_diff = _why_diff(commits, before, bool(_opt(payload, "created", bool, event)), forced)
    source: Literal["commits", "diff"] = "diff" if why_diff else "commits"
    if why_diff:
        if diff is None:
            raise FatalError(
                f"The push event cannot tell which files changed ({why_diff}) and no git "
                "checkout was given to diff.",
                _CHECKOUT_FIX,
            )
        changes = diff(before, after)
    else:
        changes = _net_changes(commits)
    by_feature, rejected = _group(changes)
    if not by_feature:
        if rejected:
            return Ignored("push touches no valid spec folder: " + "; ".join(rejected))
        return Ignored("push touches nothing under specs/<feature>/")
    features = tuple(
        FeatureChange(name, _kind(name, found, before, after, tree_has), tuple(sorted(found)))
        for name, found in sorted(by_feature.items())
    )
    return SpecsPushed(
        repo=_get(payload, "repository.full_name", str, event),
        ref=ref,
        before=before,
        after=after,
        default_branch=default_branch,
        pusher=pusher,
        actor=sender,
        actor_type=_get(payload, "sender.type", str, event),
        sender_login=sender,
        features=features,
        source=source,
        forced=forced,
        rejected=tuple(rejected),
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


def _group(changes: list[Change]) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Changed paths by feature folder ({name: {path: status}}) and the reasons for rejections."""
    by_feature: dict[str, dict[str, str]] = {}
    bad: dict[str, str] = {}
    for change in changes:
        parts = change.path.split("/")
        if parts[0] != "specs" or len(parts) < 3:
            continue  # outside specs/, or a file directly under specs/
        name = parts[1]
        if not is_feature_name(name):
            bad.setdefault(name, f"folder name {safe(name, 40)} fails {FEATURE_NAME_PATTERN}")
        elif any(p in ("", ".", "..") or not p.isprintable() for p in parts[2:]):
            bad.setdefault(name, f"path {safe(change.path, 80)} is not a plain relative path")
        else:
            by_feature.setdefault(name, {})[change.path] = change.status
    for name in bad:
        by_feature.pop(name, None)
    return by_feature, list(bad.values())


def _kind(
    name: str, changes: dict[str, str], before: str, after: str, tree_has: TreeHas | None
) -> FeatureKind:
    """deleted: gone at `after`; new: absent at `before`; edited otherwise."""
    folder = f"specs/{name}"
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
