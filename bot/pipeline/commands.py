"""PR and issue commands: revise, retry, check, answer, help — with fork, moved-head and catch-up rules."""

from __future__ import annotations

from dataclasses import dataclass

from bot import sandbox
from bot.exceptions import FatalError
from bot.gates import GateContext
from bot.gates.run import run_all
from bot.github.types import CommentInfo, Host, PrInfo
from bot.pipeline.context import JobResult, RunEnv, Target, workdir
from bot.pipeline.github import close_tracker, implement
from bot.pipeline.outcome import Request
from bot.pipeline.publish import publish_check
from bot.pipeline.rounds import format_gates
from bot.report.markers import marker_of
from bot.report.tracking import Tracker
from bot.sanitize import sanitize
from bot.trigger.dispatch import WRITE_ROLES
from bot.trigger.grammar import parse_command
from bot.trigger.plan import ISSUE_ONLY_VERBS, PR_ONLY_NOTE, feature_from_text
from bot.trigger.types import IssueCommand, PrCommand

HELP_TEXT = """\
**Specship commands** (comment on a Specship pull request; `answer` and `retry` also work on the issue):

| Command | What it does |
|---|---|
| `{p} revise <what to change>` | Changes the PR as asked, taking unresolved review comments into account |
| `{p} retry` | Runs the implementation again from the spec |
| `{p} check` | Runs only the gates (tests, security, auth, contracts, guard) on the PR branch |
| `{p} answer <answers>` | Answers Specship's clarification questions and resumes |
| `{p} help` | Shows this help |

Only people with write access can run commands. {note}"""
FORK_REFUSED = (
    "Specship does not run on pull requests from forks: it never checks out or executes code from "
    "another repository. Push the branch to this repository, or ask a maintainer to apply the change."
)
NOT_SPECSHIP_PR = (
    "This pull request was not opened by Specship (no Specship marker in its description), so there is "
    "no feature to {verb}. Label an issue that names `specs/<feature>`, or push a change to the spec."
)
HEAD_MOVED = (
    "The pull request changed after the command was written (head {then} → {now}), so Specship did "
    "not act on it. Re-issue `{p} {verb}` if it still applies."
)
NO_FEATURE = (
    "Specship could not tell which feature this issue is about. Name the feature folder in the issue, "
    "e.g. `implement specs/002-task-due-dates`, then comment `{p} retry` or re-apply the label."
)


@dataclass(frozen=True)
class Thread:
    """Where a command was written: a PR (with its head) or an issue."""

    number: int
    pr: PrInfo | None


def _help(run: RunEnv, number: int, note: str = "") -> JobResult:
    text = HELP_TEXT.format(p=run.settings.command_prefix, note=note).strip()
    run.host.upsert_comment(number, f"<!-- specship:tracking:help-{number} -->", text)
    return JobResult("checked")


def _writers_only(host: Host, comments: list[CommentInfo]) -> list[CommentInfo]:
    """Untrusted text from people without write access never reaches the prompt."""
    cache: dict[str, bool] = {}
    kept = []
    for comment in comments:
        login = comment.author
        if login not in cache:
            cache[login] = host.permission(login) in WRITE_ROLES
        if cache[login]:
            kept.append(comment)
    return kept


def pending_commands(
    run: RunEnv, thread: Thread, current_id: int, processed: list[int]
) -> list[tuple[CommentInfo, str, str]]:
    """Commands on this thread written before the current one and never handled (a cancelled run)."""
    prefix = run.settings.command_prefix
    found = []
    for comment in run.host.list_comments(thread.number):
        if comment.id >= current_id or comment.id in processed or comment.author_type.lower() == "bot":
            continue
        command = parse_command(comment.body, prefix)
        if command is None or command.verb == "help":
            continue
        if thread.pr is None and command.verb not in ISSUE_ONLY_VERBS:
            continue  # it was answered with help when it was written; running it now would surprise
        found.append((comment, command.verb, command.text))
    return [(c, v, t) for c, v, t in found if c in _writers_only(run.host, [c])]


def handle(run: RunEnv, trigger: PrCommand | IssueCommand) -> JobResult:
    """Handle one command (and any earlier one a cancelled run left unhandled), in order."""
    number = trigger.pr_number if isinstance(trigger, PrCommand) else trigger.issue_number
    if trigger.verb == "help":
        return _help(run, number, trigger.note)
    thread = Thread(number, run.host.get_pr(number) if isinstance(trigger, PrCommand) else None)
    if thread.pr is not None:
        refusal = _pr_refusal(run, trigger, thread.pr)
        if refusal:
            run.rt.info(f"refused: {refusal.split('.', 1)[0]}")
            run.host.upsert_comment(number, f"<!-- specship:tracking:refusal-{number} -->", refusal)
            return JobResult("refused")
    elif trigger.verb not in ISSUE_ONLY_VERBS:
        return _help(run, number, PR_ONLY_NOTE.format(verb=trigger.verb))
    _react(run, trigger)
    feature, branch, issue = _feature_of(run, thread)
    tracker = Tracker(
        run.host,
        number,
        f"{'pr' if thread.pr else 'issue'}-{number}:{feature}",
        f"`{feature}`",
        run.run_url,
        log=run.log,
    )
    tracker.load()
    seen = tracker.state.get("processed", [])
    processed: list[int] = [i for i in seen if isinstance(i, int)] if isinstance(seen, list) else []
    pending = pending_commands(run, thread, trigger.comment_id, processed)
    queue = [(c.id, c.author, v, t) for c, v, t in pending]
    queue.append((trigger.comment_id, trigger.actor, trigger.verb, trigger.text))
    result = JobResult("checked")
    prefix = run.settings.command_prefix
    try:
        for index, (comment_id, author, verb, text) in enumerate(queue):
            if comment_id != trigger.comment_id:
                run.host.react(comment_id, "eyes")  # acknowledged now, by the run that handles it
            if len(queue) > 1:
                tracker.begin(f"**`{prefix} {verb}`** by @{author} ({index + 1} of {len(queue)}):")
            # Marked when it starts: a command that fails or is cancelled is reported on the
            # tracking comment and never silently re-run by the next command's run.
            processed.append(comment_id)
            tracker.state["processed"] = processed[-50:]
            result = _run_verb(
                run, verb=verb, text=text, actor=author, thread=thread, feature=feature,
                branch=branch, issue=issue, tracker=tracker,
            )  # fmt: skip
            tracker.post()
    except BaseException as exc:
        close_tracker(run, tracker, exc)
        raise
    return result


def _pr_refusal(run: RunEnv, trigger: PrCommand | IssueCommand, pr: PrInfo) -> str | None:
    if pr.head_repo_full_name.lower() != run.host.full_name.lower():
        return FORK_REFUSED
    if isinstance(trigger, PrCommand) and trigger.head_sha and trigger.head_sha != pr.head_sha:
        return HEAD_MOVED.format(
            then=trigger.head_sha[:7], now=pr.head_sha[:7], p=run.settings.command_prefix, verb=trigger.verb
        )
    if marker_of(pr.body) is None or not pr.head_ref.startswith(run.settings.branch_prefix):
        return NOT_SPECSHIP_PR.format(verb=trigger.verb)
    return None


def _react(run: RunEnv, trigger: PrCommand | IssueCommand) -> None:
    kind = (
        "review_comment"
        if isinstance(trigger, PrCommand) and trigger.comment_kind == "review_comment"
        else "issue_comment"
    )
    if isinstance(trigger, PrCommand) and trigger.comment_kind == "review":
        run.host.react_issue(trigger.pr_number, "eyes")
    else:
        run.host.react(trigger.comment_id, "eyes", kind)


def _feature_of(run: RunEnv, thread: Thread) -> tuple[str, str, int | None]:
    """(feature, branch, issue to close) from the PR's marker, or from the issue's text."""
    if thread.pr is not None:
        marker = marker_of(thread.pr.body) or {}
        issue = marker.get("issue")
        return str(marker.get("feature")), thread.pr.head_ref, issue if isinstance(issue, int) else None
    info = run.host.get_issue(thread.number)
    feature = feature_from_text(info.title, info.body)
    if feature is None:
        message = NO_FEATURE.format(p=run.settings.command_prefix)
        # Only the log would know otherwise: say it where the command was written.
        run.host.upsert_comment(
            thread.number, f"<!-- specship:tracking:issue-{thread.number}:none -->", message
        )
        raise FatalError(f"Issue #{thread.number} names no feature folder.", message)
    return feature, run.settings.branch_prefix + feature, thread.number


def _run_verb(
    run: RunEnv,
    *,
    verb: str,
    text: str,
    actor: str,
    thread: Thread,
    feature: str,
    branch: str,
    issue: int | None,
    tracker: Tracker,
) -> JobResult:
    if verb == "check":
        return _check(run, thread, feature, branch, tracker)
    target = Target(feature, branch, issue, thread.number, actor)
    if verb == "answer":
        asked = tracker.state.get("questions", [])
        questions = "\n".join(f"- {q}" for q in asked) if isinstance(asked, list) else ""
        answers = f"Questions:\n{questions}\n\nAnswers from @{actor}:\n{text}" if questions else text
        target = Target(feature, branch, issue, thread.number, actor, answers=answers)
        tracker.state.pop("questions", None)
    elif verb == "revise":
        reviews = _review_comments(run, thread)
        target = Target(feature, branch, issue, thread.number, actor, revise=text, review_comments=reviews)
    elif thread.pr is None and issue is not None:
        info = run.host.get_issue(issue)
        target = Target(
            feature, branch, issue, thread.number, actor, request=Request(f"issue #{issue}", info.body)
        )
    return implement(run, target, tracker, force=True)


def _review_comments(run: RunEnv, thread: Thread) -> tuple[dict[str, object], ...]:
    if thread.pr is None:
        return ()
    comments = [c for c in run.host.review_comments(thread.number) if c.in_reply_to_id is None]
    writers = {c.author for c in comments if run.host.permission(c.author) in WRITE_ROLES}
    return tuple(
        {"author": c.author, "path": c.path, "line": c.line or 0, "body": sanitize(c.body)}
        for c in comments
        if c.author in writers
    )[:30]


def _check(run: RunEnv, thread: Thread, feature: str, branch: str, tracker: Tracker) -> JobResult:
    """Gates only, on the PR branch as it is on the remote; results in the tracking comment."""
    wd = workdir(run)
    # No merge: check judges the branch as it is (it pushes nothing), against its merge base.
    state = wd.prepare_branch(branch, run.base_branch, update=False)
    base = wd.merge_base(state.head, wd.remote_sha(run.base_branch) or run.base_branch) or state.head
    tracker.phase("gates")
    with sandbox.project_environment(run.workspace, run.settings) as project:
        ctx = GateContext(run.workspace, base, run.settings, feature, project.python, project.env)
        results = run_all(ctx)
    run.log.gates(results)
    passed = all(r.passed for r in results)
    verdict = "success" if passed else "draft"
    publish_check(run, tracker, conclusion=verdict, gates=results, head=state.head, feature=feature)
    # The headline says whether the gates pass, not only that they ran.
    tracker.finish("checked" if passed else "draft", "```\n" + format_gates(results)[:6000] + "\n```")
    return JobResult(
        "checked" if passed else "draft",
        branch,
        thread.pr,
        None,
        [],
        [r.name for r in results if not r.passed],
    )
