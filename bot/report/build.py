"""From a finished run to the PR body: diff evidence, the hidden marker and the eight parts, validated."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bot import git
from bot.exceptions import FatalError
from bot.redact import Redactor
from bot.report.body import ReportInput, render_body
from bot.report.validate import validate_body
from bot.speckit import api as specs

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.gates import GateResult


class RunResult(Protocol):
    """What the body needs of how a run ended (bot.pipeline.outcome.Outcome)."""

    @property
    def conclusion(self) -> str: ...
    @property
    def report(self) -> dict[str, Any] | None: ...
    @property
    def gates(self) -> Sequence[GateResult]: ...
    @property
    def unfinished(self) -> Sequence[str]: ...
    @property
    def left_out(self) -> Sequence[str]: ...


LEAK_BLOCKED = (
    "A secret was found in the text Specship was about to post (the model's report or the diff), "
    "so nothing was posted."
)


def spec_hash(repo: Path, folder: str, rev: str) -> str:
    """A short hash of the feature folder's files at a revision: the marker's 'spec changed?' key."""
    digest = hashlib.sha256()
    paths = git.list_files(repo, rev, folder)
    blobs = git.show_files(repo, rev, paths)  # one cat-file for the folder
    for path in paths:
        blob = blobs.get(path) or b""
        digest.update(path.encode() + b"\0" + hashlib.sha256(blob).digest())
    return digest.hexdigest()[:16]


def build_body(
    repo: Path,
    outcome: RunResult,
    feature: specs.Feature,
    *,
    base: str,
    head: str,
    redactor: Redactor,
    app_directory: str = ".",
    closes_issue: int | None = None,
    repo_url: str | None = None,
    extra_marker: dict[str, object] | None = None,
) -> str:
    """Render and validate the body; a secret anywhere in it fails closed (nothing is posted)."""
    statuses = {c.path: c.status for c in git.changed_paths(repo, base, head)}
    env_example = None
    for candidate in (".env.example", f"{app_directory}/.env.example"):
        raw = git.show_file(repo, head, candidate)
        if raw is not None:
            env_example = raw.decode("utf-8", "replace")
            break
    scenarios = [
        f"{story.key}-AS{s.number}: {s.text}"
        for story in (feature.spec.stories if feature.spec else ())
        for s in story.scenarios
    ]
    marker = {
        "feature": feature.name,
        "spec_hash": spec_hash(repo, feature.path, base),
        "base": base,
        "head": head,
        "conclusion": outcome.conclusion,
        **(extra_marker or {}),
    }
    diff_text = git.diff(repo, base, head).decode("utf-8", "replace")
    text = render_body(
        ReportInput(
            feature=feature.name,
            model_report=outcome.report,
            diff_text=diff_text,
            numstat=git.numstat(repo, base, head),
            statuses=statuses,
            gates=outcome.gates,
            env_example=env_example,
            marker=marker,
            closes_issue=closes_issue,
            repo_url=repo_url,
            base_sha=base,
            head_sha=head,
            compare_url=f"{repo_url}/compare/{base}...{head}" if repo_url else None,
            unfinished=outcome.unfinished,
            left_out=outcome.left_out,
            repo=repo,
            spec_criteria=scenarios,
            redactor=redactor,
        )
    )
    problems = validate_body(text)
    if problems:
        raise FatalError(
            "The pull request body Specship built is invalid: " + "; ".join(problems) + ".",
            "This is a bug in Specship's report; please report it with the job log.",
        )
    if redactor.contains_secret(text):
        raise FatalError(
            LEAK_BLOCKED, "Check the transcript and the diff for the leaked value, and rotate it."
        )
    return text
