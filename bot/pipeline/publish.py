"""What a finished run leaves on GitHub: the one pull request of the feature, or its questions."""

from __future__ import annotations

from bot.agent.ledger import Ledger
from bot.github.retry import ACTIONS_SETTING, ActionsCannotCreatePullRequests
from bot.github.types import PrInfo
from bot.pipeline.context import JobResult, RunEnv, Target
from bot.pipeline.outcome import Outcome
from bot.report.tracking import Tracker
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
