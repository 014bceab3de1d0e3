"""The typed Triggers an event becomes: issue labeled, specs pushed, PR/issue command, dispatch, ignored."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.speckit.layout import NAME_PATTERN
from bot.trigger.grammar import Verb

FeatureKind = Literal["new", "edited", "deleted"]


CommentKind = Literal["issue_comment", "review", "review_comment"]


FEATURE_NAME_PATTERN = NAME_PATTERN  # a feature's folder name, which becomes its branch


_FEATURE_NAME = re.compile(FEATURE_NAME_PATTERN.strip("^$"))


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
    """One feature folder a push touched: its name (the folder's own), kind, changed paths, folder."""

    name: str
    kind: FeatureKind
    paths: tuple[str, ...]
    folder: str


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
    specs_dir: str = "specs"


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


@dataclass(frozen=True)
class FeatureDispatched:
    """The workflow was run by hand (workflow_dispatch) with a `feature` input: implement it.

    `feature` is the input as typed (its shape checked: plain folder names only); which feature
    it names is decided against the specs when the job runs, like an issue's."""

    repo: str
    feature: str
    ref: str
    default_branch: str
    actor: str
    actor_type: str
    sender_login: str


Trigger = IssueLabeled | SpecsPushed | PrCommand | IssueCommand | FeatureDispatched | Ignored


def is_feature_name(name: str) -> bool:
    """True when `name` is an acceptable `specs/<name>/` folder name."""
    return _FEATURE_NAME.fullmatch(name) is not None
