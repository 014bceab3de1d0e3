"""Implement a feature on GitHub: branch, agent, gates, push, one PR per feature, live tracking comment."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot import Host, Model, gitread, prompts, specs
from bot.actions import Runtime
from bot.agent import Limits
from bot.exceptions import FatalError
from bot.git import Identity, PushPolicy, Workdir
from bot.github_retry import ActionsCannotCreatePullRequests
from bot.github_types import PrInfo
from bot.model import Ledger, price_for
from bot.pipeline import (
    Outcome,
    Pipeline,
    Request,
    default_gates,
    feature_prompt,
    load_ready_feature,
    tick_tasks_done,
)
from bot.prbody import build_body, spec_hash
from bot.report import marker_of
from bot.settings import Settings
from bot.tracking import Tracker
from bot.transcript import Transcript

NEEDS_CLARIFICATION_LABEL = "specship:needs-clarification"
BOT_LABEL = "specship"
QUESTIONS_COMMENT = (
    "Specship needs answers before it implements `{feature}`:\n\n{questions}\n\n"
    "Reply with `{prefix} answer <your answers>` (one comment, answering each question), "
    "or clarify the spec itself and push it."
)
ACTIONS_CANNOT_OPEN_PR = (
    "Specship pushed `{branch}` but GitHub refused to let this workflow open the pull request: "
    "{cause}\n\nOpen it by hand: {compare_url}\n\nTo let Specship open it next time: {fix}"
)
# A refusal (fork, moved head, not a Specship PR) is the run working as intended: exit 0, like a
# refused trigger; everything else not listed (draft, stopped, failure) fails the step.
MODEL_DECLINED = (
    "The model declined to continue (stop_reason `refusal`). Its partial edits were not pushed; "
    "check the request and the spec, then comment `/specship retry`."
)
EXIT_CODES = {"success": 0, "clarification": 0, "unchanged": 0, "checked": 0, "refused": 0}


@dataclass
class RunEnv:
    """What one workflow run has to work with, built by the composition root."""

    settings: Settings
    host: Host
    rt: Runtime
    workspace: Path
    remote_url: str
    repo_url: str
    run_url: str
    default_branch: str
    token: str
    make_model: Callable[[float], Model]
    started: float = field(default_factory=time.monotonic)
    transcripts: Path = field(default_factory=lambda: Path(".specship"))

    @property
    def deadline(self) -> float:
        return self.started + self.settings.timeout_minutes * 60

    @property
    def base_branch(self) -> str:
        return self.settings.base_branch or self.default_branch


@dataclass
class JobResult:
    """How one job ended, for the outputs, the job summary and the exit code."""

    conclusion: str
    branch: str | None = None
    pr: PrInfo | None = None
    ledger: Ledger | None = None
    phases: list[tuple[str, float]] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.conclusion, 1)


@dataclass(frozen=True)
class Target:
    """Where a feature's work goes and who asked for it."""

    feature: str
    branch: str
    issue: int | None  # the issue that asked (Closes #N), if any
    comment_on: int | None  # the issue or PR that carries the tracking comment (None: a push)
    requester: str | None
    request: Request | None = None
    answers: str | None = None
    revise: str | None = None
    review_comments: tuple[Mapping[str, object], ...] = ()


def workdir(run: RunEnv) -> Workdir:
    """The checkout Specship writes, pushing only to its own branches."""
    return Workdir(
        run.workspace,
        remote_url=run.remote_url,
        token=run.token,
        identity=Identity(run.settings.git_user_name, run.settings.git_user_email),
        runtime=run.rt,
        policy=PushPolicy(
            prefix=run.settings.branch_prefix,
            default_branch=run.default_branch,
            base_branch=run.base_branch,
        ),
        retry_command=f"{run.settings.command_prefix} retry",
    )


def base_sha(run: RunEnv, wd: Workdir) -> str:
    """The tip of the base branch on the remote (fetched), the revision the feature is read at."""
    sha = wd.remote_sha(run.base_branch)
    if sha is None:
        raise FatalError(
            f"The base branch '{run.base_branch}' does not exist on the remote.",
            "Set base-branch to an existing branch, or push it first.",
        )
    if gitread.rev_parse(run.workspace, sha) is None:
        wd.fetch(run.base_branch)
    return sha


def already_done(pr: PrInfo | None, current_hash: str, base: str, remote_head: str | None) -> bool:
    """Same spec, same base, gates passed, branch untouched since: nothing to do."""
    marker = marker_of(pr.body) if pr else None
    return bool(
        marker
        and marker.get("spec_hash") == current_hash
        and marker.get("base") == base
        and marker.get("conclusion") == "success"
        and remote_head is not None
        and marker.get("head") == remote_head
    )


def implement(run: RunEnv, target: Target, tracker: Tracker, *, force: bool = False) -> JobResult:
    """The whole flow for one feature; every exit pushes what was done and says why it ended."""
    settings = run.settings
    wd = workdir(run)
    tracker.phase("preflight")
    blocking = [p for p in run.host.preflight(settings.branch_prefix) if p.blocking]
    if blocking:
        raise FatalError(
            "Preflight failed before any model call: " + " ".join(p.cause for p in blocking),
            " ".join(p.fix for p in blocking),
        )
    for problem in run.host.warnings:
        run.rt.annotate("warning", problem)
    base = base_sha(run, wd)
    feature = load_ready_feature(run.workspace, target.feature, base, settings)
    existing = run.host.find_pr(target.branch)
    current_hash = spec_hash(run.workspace, feature.name, base)
    if not force and already_done(existing, current_hash, base, wd.remote_sha(target.branch)):
        tracker.finish("unchanged", f"Pull request: {existing.html_url}" if existing else "")
        return JobResult("unchanged", target.branch, existing)
    wd.prepare_branch(target.branch, base)
    model = run.make_model(run.deadline)
    ledger = Ledger(
        price_for(
            model.name.removeprefix("scripted:"),
            settings.input_price_per_mtok,
            settings.output_price_per_mtok,
        )
    )
    transcript = Transcript(run.transcripts / f"{feature.name}.jsonl", run.rt.redact)
    pipeline = Pipeline(run.workspace, settings, model, ledger, transcript, tracker, gates=default_gates)
    limits = Limits(
        settings.max_turns,
        settings.max_cost_usd,
        max(run.deadline - time.monotonic(), 60),
        settings.max_tokens,
    )
    task = _task(run, feature, target, base)
    try:
        outcome = pipeline.run(feature, task, base, limits)
    except BaseException as exc:
        # Cancelled, out of budget at the API, or a bug: keep the work, say where it stopped.
        wd.checkpoint(f"Specship stopped on {feature.name}: {type(exc).__name__}")
        _push_quietly(run, wd, target.branch)
        raise
    if outcome.conclusion == "refused":
        # The model declined: its partial edits are not published to the branch or the PR.
        tracker.finish("refused", MODEL_DECLINED, *outcome.unfinished)
        return JobResult("refused", target.branch, existing, ledger)
    wd.commit_all(_commit_message(feature.name, target, outcome))
    if outcome.conclusion == "success":
        tick_tasks_done(run.workspace, feature, wd.commit_all)
    tracker.phase("push")
    head = wd.push(target.branch)
    tracker.phase("pull request")
    if outcome.conclusion == "clarification":
        return _clarify(run, target, tracker, outcome=outcome, existing=existing, ledger=ledger)
    body = build_body(
        run.workspace,
        outcome,
        feature,
        base=base,
        head=head,
        redactor=run.rt.redact,
        app_directory=settings.app_directory,
        closes_issue=target.issue,
        repo_url=run.repo_url,
        extra_marker={"issue": target.issue} if target.issue else None,
    )
    pr = _publish(run, target, tracker, feature=feature, outcome=outcome, existing=existing, body=body)
    if pr is None:
        return JobResult("failure", target.branch, None, ledger)
    result = JobResult(
        outcome.conclusion,
        target.branch,
        pr,
        ledger,
        outcome.phases,
        [g.name for g in outcome.gates if not g.passed],
    )
    tracker.finish(outcome.conclusion, f"Pull request: {pr.html_url}", *outcome.unfinished)
    return result


def _task(run: RunEnv, feature: specs.Feature, target: Target, base: str) -> str:
    if target.revise is not None:
        return prompts.render(
            "revise.md",
            feature_name=feature.name,
            branch=target.branch,
            author=target.requester or "a maintainer",
            request=target.revise,
            review_comments=list(target.review_comments),
        )
    return feature_prompt(
        run.workspace, feature, run.settings, base=base, request=target.request, answers=target.answers
    )


def _commit_message(feature: str, target: Target, outcome: Outcome) -> str:
    verb = "Revise" if target.revise is not None else "Implement"
    suffix = "" if outcome.conclusion == "success" else f" ({outcome.conclusion})"
    return f"Specship: {verb.lower()} {feature}{suffix}"


def _push_quietly(run: RunEnv, wd: Workdir, branch: str) -> None:
    """On the way out after an error: push the checkpoint if we can, never mask the first error."""
    try:
        wd.push(branch)
    except (FatalError, OSError, gitread.GitError) as exc:
        run.rt.annotate("warning", f"Could not push the work in progress: {exc}")


def _clarify(
    run: RunEnv,
    target: Target,
    tracker: Tracker,
    *,
    outcome: Outcome,
    existing: PrInfo | None,
    ledger: Ledger,
) -> JobResult:
    """Post the model's questions where the request came from, label it, and stop cleanly."""
    questions = "\n".join(f"{i}. {q}" for i, q in enumerate(outcome.questions, 1))
    tracker.state["questions"] = outcome.questions
    tracker.state["feature"] = target.feature
    tracker.finish(
        "clarification",
        QUESTIONS_COMMENT.format(
            feature=target.feature, questions=questions, prefix=run.settings.command_prefix
        ),
    )
    if target.comment_on is not None:
        run.host.add_labels(target.comment_on, [NEEDS_CLARIFICATION_LABEL])
    return JobResult("clarification", target.branch, existing, ledger)


def _publish(
    run: RunEnv,
    target: Target,
    tracker: Tracker,
    *,
    feature: specs.Feature,
    outcome: Outcome,
    existing: PrInfo | None,
    body: str,
) -> PrInfo | None:
    """Create or update the one PR of this feature; draft until every gate passes."""
    host, settings = run.host, run.settings
    title = f"{feature.name}: {feature.spec.title if feature.spec else feature.name}"[:200]
    passed = outcome.conclusion == "success"
    try:
        if existing is None:
            pr = host.create_pr(
                target.branch, run.base_branch, title, body, draft=settings.draft or not passed
            )
        else:
            pr = host.update_pr(existing.number, title=title, body=body)
    except ActionsCannotCreatePullRequests as exc:
        message = ACTIONS_CANNOT_OPEN_PR.format(
            branch=target.branch, cause=exc.cause, compare_url=exc.compare_url, fix=exc.fix
        )
        tracker.finish("failure", message)
        return None
    if passed and not settings.draft and pr.draft:
        host.mark_ready(pr.number)
    elif not passed and not pr.draft:
        host.mark_draft(pr.number)
    host.add_labels(pr.number, [BOT_LABEL, *settings.labels])
    if tracker.number is None:
        tracker.number = pr.number  # a push run: the PR now carries the tracking comment
    if target.comment_on is not None:
        host.remove_label(target.comment_on, NEEDS_CLARIFICATION_LABEL)
    reviewers = [r for r in (target.requester, *settings.reviewers) if r]
    if reviewers:
        host.request_reviewers(pr.number, reviewers)
    return pr
