"""Implement a feature on GitHub: branch, agent, gates, push, one PR per feature, live tracking comment."""

from __future__ import annotations

import json

from bot import git
from bot.agent import prompts
from bot.exceptions import FatalError
from bot.git import Workdir
from bot.github.types import PrInfo
from bot.pipeline.context import JobResult, RunEnv, Target, workdir
from bot.pipeline.outcome import Outcome
from bot.pipeline.prompt import feature_prompt, load_ready_feature
from bot.pipeline.publish import clarify, publish, publish_check
from bot.pipeline.session import FeatureRun
from bot.report.build import build_body, spec_hash
from bot.report.markers import marker_of
from bot.report.tracking import Tracker
from bot.sanitize import sanitize
from bot.speckit import api as specs

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
MERGED_BASE = "Brought the branch up to date: merged `{base}` into it ({sha}), keeping every commit on it."
SPEC_CONFLICT = "`{path}` conflicted with `{base}`; the merge took `{base}`'s version (specs are the base's)."
NO_CHANGES = (
    "The run ended without changing any file, so there is nothing to push and no pull request to open. "
    "Check the spec's tasks and the transcript, then comment `/specship retry`."
)


def base_sha(run: RunEnv, wd: Workdir) -> str:
    """The tip of the base branch on the remote (fetched), the revision the feature is read at."""
    sha = wd.remote_sha(run.base_branch)
    if sha is None:
        raise FatalError(
            f"The base branch '{run.base_branch}' does not exist on the remote.",
            "Set base-branch to an existing branch, or push it first.",
        )
    if git.rev_parse(run.workspace, sha) is None:
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
    current_hash = spec_hash(run.workspace, feature.path, base)
    if not force and already_done(existing, current_hash, base, wd.remote_sha(target.branch)):
        tracker.finish("unchanged", f"Pull request: {existing.html_url}" if existing else "")
        return JobResult("unchanged", target.branch, existing)
    # A reused branch gets the base merged in first: the model works on the current spec and
    # code, and the gates and the PR body, judged against base, see only the branch's changes.
    state = wd.prepare_branch(target.branch, base, base_name=run.base_branch)
    if state.merge is not None:
        tracker.notes.append(MERGED_BASE.format(base=run.base_branch, sha=state.merge[:12]))
    tracker.notes.extend(SPEC_CONFLICT.format(path=path, base=run.base_branch) for path in state.resolved)
    session = FeatureRun(
        wd,
        settings,
        feature,
        base,
        run.make_model(run.deadline),
        tracker,
        run.transcripts / f"{feature.name}.jsonl",
        run.rt.redact,
        run.deadline,
    )
    ledger = session.ledger
    try:
        outcome = session.run(_task(run, feature, target, base))
    except BaseException:
        _push_quietly(run, wd, target.branch)  # FeatureRun committed the work in progress
        raise
    if outcome.conclusion == "refused":
        # The model declined: its partial edits are not published to the branch or the PR.
        tracker.finish("refused", MODEL_DECLINED, *outcome.unfinished)
        # "declined", not "refused": the work was not done, so the step must not show green.
        return JobResult("declined", target.branch, existing, ledger)
    if outcome.conclusion != "clarification":
        tracker.state.pop("questions", None)  # answered, or overtaken by this run
    session.commit(outcome, _commit_message(feature.name, target, outcome))
    _refuse_leaks(run, outcome, base)
    # A branch with no commit beyond the base has nothing to push and cannot carry a PR.
    empty = wd.head_sha() == base and existing is None
    if outcome.conclusion == "clarification":
        if not empty:
            head = wd.push(target.branch)
            if existing is not None:  # the open PR waits for the answers, and says so
                publish_check(
                    run, tracker, conclusion="clarification", gates=[], head=head, feature=feature.name
                )
        return clarify(run, target, tracker, outcome=outcome, existing=existing, ledger=ledger)
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
    pr = publish(
        run, target, tracker, feature=feature, outcome=outcome, existing=existing, body=body, head=head
    )
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
    diff = git.diff(run.workspace, base, "HEAD")
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
    except (FatalError, OSError, git.GitError) as exc:
        run.rt.annotate("warning", f"Could not push the work in progress: {exc}")
