"""Implement a feature on GitHub: branch, agent, gates, push, one PR per feature, live tracking comment."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.actions import Runtime
from bot.agent import prompts
from bot.agent.loop import Limits
from bot.agent.model import Ledger, Model, price_for
from bot.agent.transcript import Transcript
from bot.exceptions import FatalError
from bot.git import read as gitread
from bot.git.work import Identity, PushPolicy, Workdir
from bot.github.retry import ACTIONS_SETTING, ActionsCannotCreatePullRequests
from bot.github.types import Host, PrInfo
from bot.pipeline.rounds import (
    Outcome,
    Pipeline,
    Request,
    default_gates,
    feature_prompt,
    load_ready_feature,
    tick_tasks_done,
)
from bot.report.body import marker_of
from bot.report.build import build_body, spec_hash
from bot.report.tracking import Tracker
from bot.sandbox import process as sandbox
from bot.sandbox import project_env
from bot.sanitize import sanitize
from bot.settings import Settings
from bot.speckit import api as specs

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
MODEL_DECLINED = (
    "The model declined to continue (stop_reason `refusal`). Its partial edits were not pushed; "
    "check the request and the spec, then comment `/specship retry`."
)
LEAK_IN_OUTPUT = (
    "Secret detected in model output: {where} holds a credential of this run, so nothing was pushed "
    "or posted."
)
LEAK_FIX = (
    "Rotate the credential now, then read the run's transcript to see how the model got it "
    "(Specship never gives it the token or key)."
)
# A refusal (fork, moved head, not a Specship PR) is the run working as intended: exit 0, like a
# refused trigger. Everything else not listed (draft, stopped, declined, failure) fails the step.
NO_CHANGES = (
    "The run ended without changing any file, so there is nothing to push and no pull request to open. "
    "Check the spec's tasks and the transcript, then comment `/specship retry`."
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
    delta: str = ""  # what a push changed in the spec (an edited feature), for the prompt


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


def preflight(run: RunEnv) -> None:
    """Before any model call: the token can push and open PRs, or the run stops saying what to change."""
    blocking = [p for p in run.host.preflight(run.settings.branch_prefix) if p.blocking]
    if blocking:
        raise FatalError(
            "Preflight failed before any model call: " + " ".join(p.cause for p in blocking),
            " ".join(p.fix for p in blocking),
        )
    for problem in run.host.warnings:
        run.rt.annotate("warning", problem)


def implement(run: RunEnv, target: Target, tracker: Tracker, *, force: bool = False) -> JobResult:
    """The whole flow for one feature; every exit pushes what was done and says why it ended."""
    settings = run.settings
    wd = workdir(run)
    tracker.phase("preflight")
    preflight(run)
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
    limits = Limits(
        settings.max_turns,
        settings.max_cost_usd,
        max(run.deadline - time.monotonic(), 60),
        settings.max_tokens,
    )
    task = _task(run, feature, target, base)
    try:
        with sandbox.scratch_dir() as home:
            python = project_env.prepare(run.workspace, settings.setup_command, home)
            pipeline = Pipeline(
                run.workspace,
                settings,
                model,
                ledger,
                transcript,
                tracker,
                gates=default_gates,
                python=python,
            )
            outcome = pipeline.run(feature, task, base, limits)
    except BaseException as exc:
        # Cancelled, out of budget at the API, or a bug: keep the work, say where it stopped.
        wd.checkpoint(f"Specship stopped on {feature.name}: {type(exc).__name__}")
        _push_quietly(run, wd, target.branch)
        raise
    if outcome.conclusion == "refused":
        # The model declined: its partial edits are not published to the branch or the PR.
        tracker.finish("refused", MODEL_DECLINED, *outcome.unfinished)
        # "declined", not "refused": the work was not done, so the step must not show green.
        return JobResult("declined", target.branch, existing, ledger)
    if outcome.conclusion != "clarification":
        tracker.state.pop("questions", None)  # answered, or overtaken by this run
    wd.commit_all(_commit_message(feature.name, target, outcome))
    if outcome.conclusion == "success":
        tick_tasks_done(run.workspace, feature, wd.commit_all)
    _refuse_leaks(run, outcome, base)
    # A branch with no commit beyond the base has nothing to push and cannot carry a PR.
    empty = wd.head_sha() == base and existing is None
    if outcome.conclusion == "clarification":
        if not empty:
            wd.push(target.branch)
        return _clarify(run, target, tracker, outcome=outcome, existing=existing, ledger=ledger)
    if empty:
        tracker.finish("stopped", NO_CHANGES, *outcome.unfinished)
        return JobResult("no-changes", target.branch, None, ledger, outcome.phases)
    tracker.phase("push")
    head = wd.push(target.branch)
    tracker.phase("pull request")
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
            request=sanitize(target.revise),  # comment text is untrusted, like an issue body
            review_comments=list(target.review_comments),
        )
    return feature_prompt(
        run.workspace,
        feature,
        run.settings,
        base=base,
        request=target.request,
        answers=target.answers,
        delta_text=target.delta,
    )


def _refuse_leaks(run: RunEnv, outcome: Outcome, base: str) -> None:
    """Fail closed when the model's text or the diff holds a credential of this run (TC-16).

    Redaction would hide the value in the PR body, but a model that can write the token has seen
    it: nothing of this run is published, not even the branch.
    """
    diff = gitread.diff(run.workspace, base, "HEAD")
    places = {
        "the model's report": json.dumps(outcome.report or {}, ensure_ascii=False),
        "the model's questions": "\n".join(outcome.questions),
        "the diff": diff.decode("utf-8", "replace"),
    }
    found = [where for where, text in places.items() if run.rt.redact.contains_secret(text)]
    if found:
        raise FatalError(LEAK_IN_OUTPUT.format(where=" and ".join(found)), LEAK_FIX)


def close_tracker(run: RunEnv, tracker: Tracker, exc: BaseException) -> None:
    """Say on the tracking comment why the run stopped, without masking the error that stopped it."""
    try:
        tracker.abort(exc)
    except Exception as err:  # e.g. GitHub unreachable: the log still gets the first error
        run.rt.annotate("warning", f"Could not update the tracking comment: {err}")


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
    # A push with no PR yet has no thread to comment on: the job summary always carries them.
    run.rt.summary(f"### Specship needs answers for `{target.feature}`\n\n{questions}\n")
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
        # exc.cause already holds the URL and exc.fix a "To let Specship open it" prefix: use the
        # parts, so the comment says each thing once. The log gets it too (a push has no thread).
        message = ACTIONS_CANNOT_OPEN_PR.format(
            branch=target.branch, cause=exc.message, compare_url=exc.compare_url, fix=ACTIONS_SETTING
        )
        run.rt.annotate("error", message)
        tracker.finish("failure", message)
        return None
    if passed and not settings.draft and pr.draft:
        host.mark_ready(pr.number)
    elif not passed and not pr.draft:
        host.mark_draft(pr.number)
    host.add_labels(pr.number, [BOT_LABEL, *settings.labels])
    if tracker.number is None:
        # A push run: the new PR now carries the tracking comment, under the key every later run
        # on it uses (a re-run of the push, a command), so there is one comment, not one per run.
        tracker.number, tracker.key = pr.number, f"pr-{pr.number}:{feature.name}"
    if target.comment_on is not None:
        host.remove_label(target.comment_on, NEEDS_CLARIFICATION_LABEL)
    reviewers = [r for r in (target.requester, *settings.reviewers) if r]
    if reviewers:
        host.request_reviewers(pr.number, reviewers)
    return pr
