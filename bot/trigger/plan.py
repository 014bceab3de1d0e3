"""Trigger -> the jobs it implies (one per feature for a push), without any API call."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bot import actions
from bot.exceptions import FatalError
from bot.settings import Settings
from bot.trigger.dispatch import REFUSED_BOT_REASON, is_bot
from bot.trigger.types import (
    FEATURE_NAME_PATTERN,
    FeatureDispatched,
    Ignored,
    IssueCommand,
    IssueLabeled,
    PrCommand,
    SpecsPushed,
    Trigger,
)

if TYPE_CHECKING:
    from bot.speckit.delta import FeatureDelta

MAX_DELTA_CHARS = 12_000
# Verbs that also work on a plain issue (the one that asked); the others get help there.
ISSUE_ONLY_VERBS = ("answer", "retry", "help")
PR_ONLY_NOTE = "`{verb}` works only on a Specship pull request."

JobKind = Literal["implement", "revise", "retry", "check", "answer", "help"]
# "implement specs/002-task-due-dates", "Implement 002-task-due-dates", a link to the folder …
_FEATURE_REF = re.compile(r"(?:^|[\s(`'\"/])(?:specs/)?(\d{3,}-[a-z0-9][a-z0-9-]{0,58})(?=[/\s)`'\".,:;]|$)")
# … or a folder Spec Kit did not number, by its path: "specs/copilot/custom-feature/spec.md"
_SPECS_PATH = re.compile(
    r"(?:^|[\s(`'\"/])specs/((?:[A-Za-z0-9][A-Za-z0-9._-]*/)*[A-Za-z0-9][A-Za-z0-9._-]*)"
)
# What a path names inside a feature folder, not the folder itself.
_INSIDE = frozenset({"contracts", "checklists"})


@dataclass(frozen=True)
class Job:
    """One unit of work: what to do, for which feature, on which branch, for which issue or PR."""

    kind: JobKind
    feature: str | None
    branch: str | None
    issue: int | None = None
    pr: int | None = None
    change: str = ""
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    """The jobs of one event, or why there are none."""

    jobs: tuple[Job, ...]
    ignored: str | None = None
    notes: tuple[str, ...] = ()
    refused: str | None = None  # a refusal `run` posts (a bot not allow-listed): no job, one comment

    def to_json(self) -> dict[str, Any]:
        return {
            "jobs": [job.to_json() for job in self.jobs],
            "ignored": self.ignored,
            "refused": self.refused,
            "notes": list(self.notes),
        }


def feature_from_text(*texts: str) -> str | None:
    """The first feature an issue names, by its folder name (`002-x` from `specs/Phase-2/002-x`,
    `002-x` or `specs/copilot/custom/spec.md`'s `custom`), if any.

    A feature is named by its folder everywhere (speckit.layout): two features never share one,
    so the folder name alone says which feature, and it is the branch name too."""
    for text in texts:
        found = [(m.start(), m.group(1)) for m in _FEATURE_REF.finditer(text)]
        for match in _SPECS_PATH.finditer(text):
            parts = match.group(1).split("/")
            while parts and ("." in parts[-1] or parts[-1] in _INSIDE):
                parts.pop()  # a file or a sub-folder of the feature
            if parts:
                found.append((match.start(), parts[-1]))
        for _, name in sorted(found):
            if re.fullmatch(FEATURE_NAME_PATTERN, name):
                return name
    return None


def plan(trigger: Trigger, settings: Settings) -> Plan:
    """The jobs a trigger implies; PR commands learn their feature from the PR at run time."""
    prefix = settings.branch_prefix
    if isinstance(trigger, Ignored):
        return Plan((), ignored=trigger.reason)
    if isinstance(trigger, SpecsPushed):
        jobs, notes = [], list(trigger.rejected)
        for change in trigger.features:
            if change.kind == "deleted":
                notes.append(f"feature {change.name} was deleted: nothing to implement")
                continue
            jobs.append(Job("implement", change.name, prefix + change.name, change=change.kind))
        if not jobs:
            return Plan((), ignored="the push changed no feature that can be implemented", notes=tuple(notes))
        return Plan(tuple(jobs), notes=tuple(notes))
    if isinstance(trigger, FeatureDispatched):
        leaf = trigger.feature.rsplit("/", 1)[-1]
        return Plan((Job("implement", trigger.feature, prefix + leaf, change="dispatched"),))
    if isinstance(trigger, IssueLabeled):
        allowed = {b.lower() for b in settings.allowed_bots}
        if is_bot(trigger.actor, trigger.actor_type) and trigger.actor.lower() not in allowed:
            # run refuses it (dispatch.authorize) before any work: the plan has no job either.
            return Plan((), refused=REFUSED_BOT_REASON.format(login=trigger.actor))
        feature = feature_from_text(trigger.title, trigger.body)
        branch = prefix + (feature or f"issue-{trigger.issue_number}")
        return Plan((Job("implement", feature, branch, issue=trigger.issue_number),))
    if isinstance(trigger, PrCommand):
        job = Job(trigger.verb, None, None, pr=trigger.pr_number, text=trigger.text)
        return Plan((job,), notes=(trigger.note,) if trigger.note else ())
    if isinstance(trigger, IssueCommand):
        if trigger.verb not in ISSUE_ONLY_VERBS:  # run answers it with help (pipeline.commands)
            note = PR_ONLY_NOTE.format(verb=trigger.verb)
            return Plan((Job("help", None, None, issue=trigger.issue_number),), notes=(note,))
        job = Job(trigger.verb, None, None, issue=trigger.issue_number, text=trigger.text)
        return Plan((job,), notes=(trigger.note,) if trigger.note else ())
    raise TypeError(f"unknown trigger {trigger!r}")


def refine_push(
    workspace: Path, trigger: Trigger, planned: Plan, *, describe: bool = True
) -> tuple[Plan, dict[str, str]]:
    """For a push: drop the features whose change is no work, and say what changed in the others.

    A push that only ticks task boxes (Specship's own tick commit, merged with its PR) would
    otherwise start the same feature again. An edited feature's prompt gets the change (what moved
    in the spec, and its diff), so the model implements the change. Parsing is the costly part:
    without `describe` (plan), only features whose push touched nothing but tasks.md are parsed.
    """
    if not isinstance(trigger, SpecsPushed) or not planned.jobs:
        return planned, {}
    touched = {change.name: change for change in trigger.features}
    only = {
        touched[job.feature].folder
        for job in planned.jobs
        if job.feature in touched
        and (describe or all(path.endswith("/tasks.md") for path in touched[job.feature].paths))
    }
    if not only:
        return planned, {}
    # The Spec Kit parsers (markdown-it, unidiff) are loaded only here: most pushes never get this far.
    from bot.speckit.delta import delta

    try:
        found = delta(workspace, trigger.before, trigger.after, only=only, specs_dir=trigger.specs_dir)
    except FatalError as exc:  # e.g. a shallow checkout: judge by the changed paths alone
        actions.runtime().annotate("warning", f"Could not compare the specs of the push: {exc.cause}")
        return planned, {}
    jobs, skipped, deltas = [], [], {}
    for job in planned.jobs:
        change = found.feature(job.feature or "")
        if change is not None and not change.is_work:
            skipped.append(f"feature {job.feature} only had task boxes ticked or whitespace changed")
            continue
        jobs.append(job)
        if change is not None and change.status == "edited" and job.feature:
            deltas[job.feature] = delta_text(change)
    notes = (*planned.notes, *skipped)
    if not jobs:
        return Plan((), ignored="; ".join(skipped), notes=notes), {}
    return Plan(tuple(jobs), notes=notes), deltas


def delta_text(change: FeatureDelta) -> str:
    """What changed in a feature's spec, for the prompt: one line per change, then the diff."""
    lines = "\n".join(f"- {line}" for line in change.summary())
    patch = str(change.patch)
    if len(patch) > MAX_DELTA_CHARS:
        patch = patch[:MAX_DELTA_CHARS] + "\n… (diff truncated)"
    return f"{lines}\n\n```diff\n{patch}\n```" if patch.strip() else lines
