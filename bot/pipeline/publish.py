"""What a finished run leaves on GitHub: the one pull request of the feature, or its questions."""

from __future__ import annotations

from collections.abc import Sequence

from bot.agent.ledger import Ledger
from bot.gates import GateResult
from bot.github.retry import ACTIONS_SETTING, ActionsCannotCreatePullRequests, GitHubApiError
from bot.github.types import Host, PrInfo
from bot.pipeline.context import JobResult, RunEnv, Target
from bot.pipeline.outcome import Outcome
from bot.report.checks import CHECK_NAME, check_run_spec
from bot.report.tracking import Tracker
from bot.speckit import api as specs

NEEDS_CLARIFICATION_LABEL = "specship:needs-clarification"
BOT_LABEL = "specship"
# On a ready pull request whose gates fail (drafts unsupported, `draft: false`, or GitHub refused
# to turn it into a draft): with the failing check run, what says "not yet".
DO_NOT_MERGE_LABEL = "specship:do-not-merge"
READY_REFUSED = (
    "GitHub did not let Specship take the pull request out of draft ({why}). Every gate passed and "
    "the `Specship` check run says so: mark it ready for review by hand."
)
DRAFT_REFUSED = (
    "GitHub did not let Specship turn the pull request back into a draft ({why}), so it carries the "
    "`{label}` label and a failing `Specship` check run until the gates pass."
)
DRAFTS_UNSUPPORTED = (
    "This repository's plan has no draft pull requests, so Specship opened this one ready for review"
    "{failing}."
)
NO_CHECK_RUN = "Specship could not publish the `{name}` check run: {cause} {fix}"
QUESTIONS_COMMENT = (
    "Specship needs answers before it implements `{feature}`:\n\n{questions}\n\n"
    "Reply with `{prefix} answer <your answers>` (one comment, answering each question), "
    "or clarify the spec itself and push it."
)
ACTIONS_CANNOT_OPEN_PR = (
    "Specship pushed `{branch}` but GitHub refused to let this workflow open the pull request: "
    "{cause}\n\nOpen it by hand: {compare_url}\n\nTo let Specship open it next time: {fix}"
)


def clarify(
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


def publish(
    run: RunEnv,
    target: Target,
    tracker: Tracker,
    *,
    feature: specs.Feature,
    outcome: Outcome,
    existing: PrInfo | None,
    body: str,
    head: str,
) -> PrInfo | None:
    """Create or update the one PR of this feature, and its `Specship` check run on head.

    Draft until every gate passes (unless `draft: false`), never depending on GitHub letting the
    token change the draft state: where it cannot be a draft, a failing PR carries the
    do-not-merge label; the check run is the merge signal either way."""
    host, settings = run.host, run.settings
    title = f"{feature.name}: {feature.spec.title if feature.spec else feature.name}"[:200]
    passed = outcome.conclusion == "success"
    try:
        if existing is None:
            pr = host.create_pr(target.branch, run.base_branch, title, body, draft=settings.draft)
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
    if existing is None and settings.draft and not pr.draft:
        failing = "" if passed else f"; the `{DO_NOT_MERGE_LABEL}` label marks it as not ready"
        tracker.notes.append(DRAFTS_UNSUPPORTED.format(failing=failing))
    labels = [BOT_LABEL, *settings.labels, *_draft_state(host, pr, passed, settings.draft, tracker)]
    host.add_labels(pr.number, labels)
    if tracker.number is None:
        # A push run: the new PR now carries the tracking comment, under the key every later run
        # on it uses (a re-run of the push, a command), so there is one comment, not one per run.
        tracker.number, tracker.key = pr.number, f"pr-{pr.number}:{feature.name}"
    if target.comment_on is not None:
        host.remove_label(target.comment_on, NEEDS_CLARIFICATION_LABEL)
    reviewers = [r for r in (target.requester, *settings.reviewers) if r]
    if reviewers:
        host.request_reviewers(pr.number, reviewers)
    publish_check(
        run,
        tracker,
        conclusion=outcome.conclusion,
        gates=outcome.gates,
        head=head,
        feature=feature.name,
        unfinished=outcome.unfinished,
    )
    return pr


def _draft_state(host: Host, pr: PrInfo, passed: bool, want_draft: bool, tracker: Tracker) -> list[str]:
    """Move the PR toward its state (passing: ready unless `draft: true`; failing: draft when
    allowed); the labels it then needs. A refusal by GitHub is a note, never an error."""
    if passed:
        if DO_NOT_MERGE_LABEL in pr.labels:
            host.remove_label(pr.number, DO_NOT_MERGE_LABEL)
        if not want_draft and pr.draft:
            change = host.mark_ready(pr.number)
            if change.refused:
                tracker.notes.append(READY_REFUSED.format(why=change.refused))
        return []
    draft = pr.draft
    if not draft and want_draft:
        change = host.mark_draft(pr.number)
        draft = change.changed
        if change.refused:
            tracker.notes.append(DRAFT_REFUSED.format(why=change.refused, label=DO_NOT_MERGE_LABEL))
    return [] if draft else [DO_NOT_MERGE_LABEL]


def publish_check(
    run: RunEnv,
    tracker: Tracker,
    *,
    conclusion: str,
    gates: Sequence[GateResult],
    head: str,
    feature: str,
    unfinished: Sequence[str] = (),
) -> None:
    """The `Specship` check run on head; a refusal (no `checks: write`, a personal token) is said
    on the tracking comment and in the log, and never stops the run after its PR is published."""
    spec = check_run_spec(
        outcome=conclusion,
        gates=gates,
        head_sha=head,
        repo=run.workspace,
        app_directory=run.settings.app_directory,
        details_url=run.run_url,
        feature=feature,
        unfinished=unfinished,
    )
    try:
        run.host.publish_check_run(spec)
    except GitHubApiError as exc:
        note = NO_CHECK_RUN.format(name=CHECK_NAME, cause=exc.cause, fix=exc.fix)
        tracker.notes.append(note)
        run.rt.annotate("warning", note)
