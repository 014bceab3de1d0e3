"""GitHub event -> one typed Trigger: IssueLabeled, SpecsPushed, PrCommand, IssueCommand or Ignored."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, cast

from bot.exceptions import FatalError
from bot.git import Change, GitError, changed_paths, list_files
from bot.trigger.bots import DEFAULT_BOT_EMAILS, DEFAULT_BOT_LOGINS, Bots
from bot.trigger.grammar import parse_command
from bot.trigger.payload import PAYLOAD_FIX, checked, json_kind, optional, required, safe, sha
from bot.trigger.push import CHECKOUT_FIX, Diff, TreeHas, parse_push
from bot.trigger.types import (
    CommentKind,
    FeatureDispatched,
    Ignored,
    IssueCommand,
    IssueLabeled,
    PrCommand,
    Trigger,
)

MAX_EVENT_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB

_ENV_FIX = (
    "Run Specship as a step of a GitHub Actions workflow, or set GITHUB_EVENT_NAME and "
    "GITHUB_EVENT_PATH (a webhook payload JSON file) to replay an event locally."
)


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
            f"The event file {safe(raw_path, 200)} holds {json_kind(payload)}, expected a JSON object.",
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
    specs_dir: str = "specs",
) -> Trigger:
    """Exactly one Trigger for a GitHub event; authorization is left to dispatch."""
    if not isinstance(payload, Mapping):
        raise FatalError(
            f"The {event_name} event payload is {json_kind(payload)}, expected an object.",
            PAYLOAD_FIX,
        )
    bots = Bots(bot_logins, bot_emails)
    if event_name == "issues":
        return _issues(payload, trigger_label, bots)
    if event_name == "push":
        return parse_push(payload, bots, branch_prefix, diff, tree_has, specs_dir=specs_dir)
    if event_name == "workflow_dispatch":
        return _dispatch(payload, bots)
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
                CHECKOUT_FIX,
            ) from None

    def tree_has(rev: str, path: str) -> bool:
        return bool(list_files(repo, rev, path))

    return diff, tree_has


# ---- the event kinds ------------------------------------------------------------------------


def _issues(payload: Mapping[str, Any], trigger_label: str, bots: Bots) -> Trigger:
    event = "issues"
    action = required(payload, "action", str, event)
    if action != "labeled":
        return Ignored(f"issues/{safe(action, 30)} is not a trigger (only issues/labeled is)")
    label = required(payload, "label.name", str, event)
    if label.casefold() != trigger_label.casefold():
        return Ignored(f"label {safe(label)} is not the trigger label {safe(trigger_label)}")
    sender = required(payload, "sender.login", str, event)
    if bots.login(sender):
        return Ignored(f"label added by Specship's own account {safe(sender)}")
    return IssueLabeled(
        repo=required(payload, "repository.full_name", str, event),
        issue_number=required(payload, "issue.number", int, event),
        title=required(payload, "issue.title", str, event),
        body=optional(payload, "issue.body", str, event) or "",
        label=label,
        actor=sender,
        actor_type=required(payload, "sender.type", str, event),
        sender_login=sender,
        issue_author=required(payload, "issue.user.login", str, event),
        issue_state=optional(payload, "issue.state", str, event) or "open",
        default_branch=required(payload, "repository.default_branch", str, event),
    )


DISPATCH_FIX = (
    "Run the workflow again with the feature's folder name in the feature input, e.g. "
    "002-task-due-dates (or its path, specs/Phase-2/001-x)."
)
# A feature as typed into the workflow form: folder names joined by '/', nothing a shell,
# git or a path could read otherwise.
_DISPATCHED_FEATURE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,62}){0,7}")


def _dispatch(payload: Mapping[str, Any], bots: Bots) -> Trigger:
    """workflow_dispatch: Specship's own workflow names the feature in its `feature` input."""
    event = "workflow_dispatch"
    inputs = optional(payload, "inputs", dict, event) or {}
    if "feature" not in inputs:
        return Ignored("workflow_dispatch has no 'feature' input (only Specship's workflow form has one)")
    raw = checked(inputs["feature"], str, "inputs.feature", event)
    feature = raw.strip().strip("/")
    if not feature:
        raise FatalError("The workflow was run without a feature: the feature input is empty.", DISPATCH_FIX)
    if not _DISPATCHED_FEATURE.fullmatch(feature) or any(p in (".", "..") for p in feature.split("/")):
        raise FatalError(f"The feature input {safe(feature, 80)} is not a feature folder name.", DISPATCH_FIX)
    sender = required(payload, "sender.login", str, event)
    if bots.login(sender):
        return Ignored(f"workflow dispatched by Specship's own account {safe(sender)}")
    ref = required(payload, "ref", str, event)
    default_branch = required(payload, "repository.default_branch", str, event)
    if ref != f"refs/heads/{default_branch}":
        raise FatalError(
            f"The workflow was run on {safe(ref)}, but Specship implements features from the default "
            f"branch {safe(default_branch)} (the specs and the configuration are read there).",
            f"Run the workflow again with 'Use workflow from' set to {safe(default_branch)}.",
        )
    return FeatureDispatched(
        repo=required(payload, "repository.full_name", str, event),
        feature=feature,
        ref=ref,
        default_branch=default_branch,
        actor=sender,
        actor_type=required(payload, "sender.type", str, event),
        sender_login=sender,
    )


def _comment(event: str, payload: Mapping[str, Any], prefix: str, bots: Bots) -> Trigger:
    wanted, key, kind, stamp = {
        "issue_comment": ("created", "comment", "issue_comment", "created_at"),
        "pull_request_review": ("submitted", "review", "review", "submitted_at"),
        "pull_request_review_comment": ("created", "comment", "review_comment", "created_at"),
    }[event]
    action = required(payload, "action", str, event)
    if action != wanted:
        return Ignored(f"{event}/{safe(action, 30)} is not read (only {event}/{wanted} is)")
    author = required(payload, f"{key}.user.login", str, event)
    sender = required(payload, "sender.login", str, event)
    if bots.login(author) or bots.login(sender):
        return Ignored(f"{kind.replace('_', ' ')} by Specship's own account {safe(author)}")
    body = optional(payload, f"{key}.body", str, event) or ""
    command = parse_command(body, prefix)
    if command is None:
        return Ignored(f"{kind.replace('_', ' ')} is not a {prefix} command")
    common: dict[str, Any] = {
        "repo": required(payload, "repository.full_name", str, event),
        "verb": command.verb,
        "text": command.text,
        "note": command.note,
        "comment_id": required(payload, f"{key}.id", int, event),
        "actor": author,
        "actor_type": required(payload, f"{key}.user.type", str, event),
        "sender_login": sender,
        "created_at": optional(payload, f"{key}.{stamp}", str, event) or "",
    }
    if event == "issue_comment":
        number = required(payload, "issue.number", int, event)
        if optional(payload, "issue.pull_request", dict, event) is None:
            return IssueCommand(issue_number=number, **common)
        return PrCommand(
            pr_number=number, comment_kind="issue_comment", head_sha=None, is_fork=None, **common
        )
    base_repo = required(payload, "pull_request.base.repo.full_name", str, event)
    head_repo = optional(payload, "pull_request.head.repo", dict, event)
    is_fork = head_repo is None or (
        required(payload, "pull_request.head.repo.full_name", str, event).casefold() != base_repo.casefold()
    )
    return PrCommand(
        pr_number=required(payload, "pull_request.number", int, event),
        comment_kind=cast(CommentKind, kind),
        head_sha=sha(payload, "pull_request.head.sha", event),
        is_fork=is_fork,
        **common,
    )
