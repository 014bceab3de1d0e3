"""`specship run`: the Action's entry point — event, authorization, jobs, outputs, a truthful exit code."""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot import actions, git, sandbox
from bot.agent.model import Model
from bot.cli.common import load_settings, read_trigger
from bot.exceptions import FatalError
from bot.github.retry import GitHubApiError
from bot.pipeline import catchup
from bot.pipeline.commands import handle
from bot.pipeline.context import JobResult, RunEnv, Target
from bot.pipeline.github import close_tracker, implement
from bot.pipeline.layout import resolve_app_directory
from bot.pipeline.outcome import Request
from bot.report.runlog import RunLog
from bot.report.tracking import Tracker
from bot.settings import Settings
from bot.trigger.dispatch import authorize
from bot.trigger.events import load_event
from bot.trigger.plan import Job, Plan, plan, refine_push
from bot.trigger.types import Ignored, IssueCommand, IssueLabeled, PrCommand, SpecsPushed, Trigger

NO_GITHUB_CREDENTIAL = "No GitHub token: the github-token input and GITHUB_TOKEN are both empty."
NO_GITHUB_CREDENTIAL_FIX = (
    "Pass `github-token: ${{ secrets.GITHUB_TOKEN }}` (or a GitHub App token) in the workflow's `with:`."
)
NO_MODEL_KEY = (
    "The Anthropic API key is empty: secrets unavailable (fork/Dependabot context, or the secret is not set)."
)
NO_MODEL_KEY_FIX = (
    "Set the ANTHROPIC_API_KEY repository secret and pass "
    "`anthropic-api-key: ${{ secrets.ANTHROPIC_API_KEY }}`; "
    "GitHub withholds secrets from fork and Dependabot runs, so Specship cannot run there."
)
NEEDS_MODEL = frozenset({"implement", "revise", "retry", "answer"})
SUMMARY_ROW = "| {kind} | {feature} | {conclusion} | {pr} | {cost} |\n"


def _require(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise FatalError(f"{name} is not set.", "Run Specship as a step of a GitHub Actions workflow.")
    return value


def _model_key(settings: Settings, env: Mapping[str, str]) -> str:
    key = settings.anthropic_api_key or env.get("ANTHROPIC_API_KEY", "")
    if settings.provider == "anthropic" and not key.strip():
        raise FatalError(NO_MODEL_KEY, NO_MODEL_KEY_FIX)
    return key


def _make_model_factory(settings: Settings, key: str, env: Mapping[str, str]) -> Any:
    def make(deadline: float) -> Model:
        from bot.agent.factory import build_model

        return build_model(
            env.get("SPECSHIP_MODEL") or None, settings, {**env, "ANTHROPIC_API_KEY": key}, deadline
        )

    return make


def _selected(jobs: tuple[Job, ...], env: Mapping[str, str]) -> tuple[Job, ...]:
    """With SPECSHIP_JOB (a matrix entry), only that job — and only if this event implies it."""
    raw = env.get("SPECSHIP_JOB", "").strip()
    if not raw:
        return jobs
    try:
        wanted = json.loads(raw)
    except json.JSONDecodeError:
        raise FatalError(
            "SPECSHIP_JOB is not valid JSON.", "Pass `SPECSHIP_JOB: ${{ toJSON(matrix) }}`."
        ) from None
    chosen = tuple(j for j in jobs if isinstance(wanted, dict) and j.to_json() == {**j.to_json(), **wanted})
    if len(chosen) != 1:
        raise FatalError(
            "SPECSHIP_JOB names no job this event implies (or more than one).",
            "Fan out over the `jobs` output of `specship plan` for the same event.",
        )
    return chosen


def _actors(trigger: Trigger, env: Mapping[str, str]) -> dict[str, str | None]:
    actors: dict[str, str | None] = {}
    actor = getattr(trigger, "actor", "")
    if actor:
        actors[actor] = getattr(trigger, "actor_type", None)
    for name in ("GITHUB_ACTOR", "GITHUB_TRIGGERING_ACTOR"):
        login = env.get(name, "")
        if login and login not in actors:
            actors[login] = None
    return actors


def transcript_dir(workspace: Path) -> Path:
    """Where the run's transcripts go: the checkout's .git/specship/transcripts.

    Not $RUNNER_TEMP: a Docker action's container does not see the runner's temp directory, so
    files written there are gone with the container. The workspace is mounted, and inside .git
    nothing is committed, and generated code cannot read it (.git is off limits and mode 0700).
    """
    try:
        git_dir = Path(git.run(workspace, "rev-parse", "--absolute-git-dir").decode().strip())
    except git.GitError:
        git_dir = workspace / ".git"
    return git_dir / "specship" / "transcripts"


def transcript_output(workspace: Path, paths: list[Path]) -> str:
    """The `transcript` output: one path per line, relative to the workspace when inside it (a
    later step, such as actions/upload-artifact, resolves it against its own GITHUB_WORKSPACE)."""
    shown = []
    for path in dict.fromkeys(paths):
        if not path.is_file():
            continue
        try:
            shown.append(path.resolve().relative_to(workspace.resolve()).as_posix())
        except ValueError:
            shown.append(str(path))
    return "\n".join(shown)


def _thread_of(trigger: Trigger) -> int | None:
    if isinstance(trigger, IssueLabeled):
        return trigger.issue_number
    if isinstance(trigger, PrCommand):
        return trigger.pr_number
    if isinstance(trigger, IssueCommand):
        return trigger.issue_number
    return None


def main(args: argparse.Namespace) -> int:
    """Handle the event; the `conclusion` output is written however the run ends."""
    rt = actions.runtime()
    try:
        return _main(args, rt)
    except Exception:
        rt.output("conclusion", "failure")
        raise
    except BaseException:
        rt.output("conclusion", "cancelled")
        raise


def _main(args: argparse.Namespace, rt: actions.Runtime) -> int:
    env = dict(os.environ)
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".").resolve()
    _, payload = load_event(env)
    repository = payload.get("repository")
    default_branch = str((repository if isinstance(repository, dict) else {}).get("default_branch") or "main")
    # The configuration comes from the default branch as the remote has it, never from what a
    # pull request's checkout may hold (a fork could otherwise allow itself in).
    base_ref = f"refs/remotes/origin/{default_branch}"
    settings = load_settings(workspace, env, rev=base_ref if git.rev_parse(workspace, base_ref) else None)
    trigger = read_trigger(workspace, settings, env)
    planned = plan(trigger, settings)
    if planned.jobs:
        # a matrix job keeps only its own feature before the (costly) spec comparison
        planned = Plan(_selected(planned.jobs, env), planned.ignored, planned.notes)
    planned, deltas = refine_push(workspace, trigger, planned)
    # A refused plan (a bot's label) has no job, but run still says so on the issue (authorize).
    if isinstance(trigger, Ignored) or (not planned.jobs and planned.refused is None):
        rt.info(f"ignored: {planned.ignored or 'nothing to do'}")
        rt.output("conclusion", "ignored")
        return 0
    jobs = planned.jobs
    if args.dry_run:
        print(json.dumps(planned.to_json(), indent=2))
        return 0
    # Before any untrusted code can run: the checkout's persisted token leaves .git/config.
    for name in sandbox.strip_persisted_credentials(workspace):
        rt.info(f"removed persisted checkout credential {name} from the git config")
    key = _model_key(settings, env) if any(j.kind in NEEDS_MODEL for j in jobs) else ""
    token = settings.github_token or env.get("GITHUB_TOKEN", "")
    if not token.strip():
        raise FatalError(NO_GITHUB_CREDENTIAL, NO_GITHUB_CREDENTIAL_FIX)
    repo_full = _require(env, "GITHUB_REPOSITORY")
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    started = time.monotonic()
    from bot.github.host import GitHubHost

    host = GitHubHost(
        token,
        repo_full,
        base_url=env.get("GITHUB_API_URL", "https://api.github.com"),
        deadline=time.time() + settings.timeout_minutes * 60,
        redactor=rt.redact,
        identity=settings.bot_login or None,
        web_url=server,
    )
    decision = authorize(
        _actors(trigger, env),
        host.permission,
        allowed_bots=settings.allowed_bots,
        label=settings.trigger_label,
    )
    if not decision.allowed:
        rt.info(f"refused: {decision.reason}")
        thread = _thread_of(trigger)
        if thread is not None and decision.comment:
            host.upsert_comment(thread, f"<!-- specship:tracking:refusal-{thread} -->", decision.comment)
        rt.output("conclusion", "refused")
        # The job summary is where a maintainer looks first when "nothing happened".
        rt.summary(f"## Specship\n\nRefused: {decision.reason}; nothing was run.\n")
        return 0
    run = RunEnv(
        settings=resolve_app_directory(workspace, settings),
        host=host,
        rt=rt,
        workspace=workspace,
        remote_url=env.get("SPECSHIP_REMOTE_URL") or f"{server}/{repo_full}.git",
        repo_url=f"{server}/{repo_full}",
        run_url=f"{server}/{repo_full}/actions/runs/{env.get('GITHUB_RUN_ID', '0')}",
        default_branch=default_branch,
        token=token,
        make_model=_make_model_factory(settings, key, env),
        started=started,
        transcripts=transcript_dir(workspace),
        log=RunLog(rt),
    )
    if isinstance(trigger, SpecsPushed) and not env.get("SPECSHIP_JOB", "").strip():
        jobs = _with_catch_up(run, trigger, jobs, deltas)
    if not jobs:
        rt.output("conclusion", "ignored")
        return 0
    try:
        results = _run_jobs(run, trigger, jobs, deltas)
    finally:
        # However the run ends, the transcripts so far are there to read (and to upload).
        rt.output("transcript", transcript_output(workspace, run.written))
    _report(rt, jobs, results, started)
    return max(r.exit_code for r in results)


def _run_jobs(
    run: RunEnv, trigger: Trigger, jobs: tuple[Job, ...], deltas: dict[str, str]
) -> list[JobResult]:
    """Every job in order; a push run then leaves its record for the next one's catch-up."""
    results: list[JobResult] = []
    try:
        for job in jobs:
            try:
                results.append(_run_job(run, trigger, job, deltas.get(job.feature or "", "")))
            except FatalError as exc:
                if len(jobs) == 1:
                    raise
                # One feature of a push that cannot be implemented must not block the others.
                run.rt.fail(exc.cause, exc.fix)
                results.append(JobResult("failure", job.branch))
    except Exception:
        if isinstance(trigger, SpecsPushed):
            catchup.record(run, trigger, jobs, results)  # it ran, and failed: no catch-up for it
        raise
    if isinstance(trigger, SpecsPushed):
        catchup.record(run, trigger, jobs, results)
    return results


def _with_catch_up(
    run: RunEnv, trigger: SpecsPushed, jobs: tuple[Job, ...], deltas: dict[str, str]
) -> tuple[Job, ...]:
    """The push's jobs plus those of pushes whose run GitHub dropped (pipeline.catchup)."""
    try:
        found = catchup.find(run, trigger, [j.feature for j in jobs if j.feature])
    except GitHubApiError as exc:
        run.rt.annotate("warning", f"Could not look for features a dropped run left: {exc.cause}")
        return jobs
    for note in found.notes:
        run.rt.info(f"catch-up: {note}")
    deltas.update(found.deltas)
    return (*jobs, *found.jobs)


def _run_job(run: RunEnv, trigger: Trigger, job: Job, delta: str = "") -> JobResult:
    """One job, with the tracking comment marked failed or cancelled whatever stops it."""
    if isinstance(trigger, PrCommand | IssueCommand):
        return handle(run, trigger)
    if job.feature is None:  # a label job on an issue that names no feature
        from bot.pipeline.commands import NO_FEATURE

        message = NO_FEATURE.format(p=run.settings.command_prefix)
        if job.issue is not None:
            run.host.upsert_comment(job.issue, f"<!-- specship:tracking:issue-{job.issue}:none -->", message)
        raise FatalError(f"Issue #{job.issue} names no feature folder under specs/.", message)
    request = None
    if isinstance(trigger, IssueLabeled):
        run.host.react_issue(trigger.issue_number, "eyes")
        request = Request(
            f"issue #{trigger.issue_number} by @{trigger.issue_author}", f"{trigger.title}\n\n{trigger.body}"
        )
    number = job.issue
    if isinstance(trigger, SpecsPushed):
        existing = run.host.find_pr(job.branch or "")
        number = existing.number if existing else None
    key = f"{'issue' if job.issue else 'pr'}-{number}:{job.feature}" if number else f"push:{job.feature}"
    tracker = Tracker(run.host, number, key, f"`{job.feature}`", run.run_url, log=run.log)
    tracker.load()  # keep what earlier runs recorded on this comment (handled commands, questions)
    requester = getattr(trigger, "actor", None) or getattr(trigger, "pusher", None)
    if job.change == catchup.CATCH_UP:
        requester = None  # the pusher of this push did not ask for another push's feature
    target = Target(
        job.feature,
        job.branch or run.settings.branch_prefix + job.feature,
        job.issue,
        job.issue,
        requester,
        request,
        delta=delta,
    )
    try:
        return implement(run, target, tracker)
    except BaseException as exc:
        try:
            close_tracker(run, tracker, exc)
        except BaseException as late:
            if isinstance(late, Exception):
                raise
            # Cancelled during the final edit itself: later signals are ignored (bot.__main__),
            # so this second edit completes and the comment never stays at "working".
            close_tracker(run, tracker, late)
            raise
        raise


def _conclusion(results: list[JobResult]) -> str:
    """The run's conclusion: the first failing job's, else the one every job shares, else success.

    A clarification or an unchanged PR must stay visible to the workflow (it exits 0 too), so it
    is not folded into "success".
    """
    failing = [r.conclusion for r in results if r.exit_code != 0]
    if failing:
        return failing[0]
    kinds = {r.conclusion for r in results}
    return kinds.pop() if len(kinds) == 1 else "success"


def _report(rt: actions.Runtime, jobs: tuple[Job, ...], results: list[JobResult], started: float) -> None:
    """Outputs and the job summary: phases, tokens, cost, gates, and the PR link."""
    last = results[-1]
    usage = [r.ledger.usage for r in results if r.ledger]
    cost = sum(r.ledger.cost_usd for r in results if r.ledger)
    rt.output("conclusion", _conclusion(results))
    rt.output("pr-number", str(last.pr.number) if last.pr else "")
    rt.output("pr-url", last.pr.html_url if last.pr else "")
    rt.output("branch", last.branch or "")
    rt.output("cost-usd", f"{cost:.4f}")
    rt.output("input-tokens", str(sum(u.total_input for u in usage)))
    rt.output("output-tokens", str(sum(u.output_tokens for u in usage)))
    lines = [
        "## Specship\n\n",
        "| Job | Feature | Conclusion | Pull request | Cost |\n",
        "|---|---|---|---|---|\n",
    ]
    for job, result in zip(jobs, results, strict=False):
        pr = f"[#{result.pr.number}]({result.pr.html_url})" if result.pr else "—"
        cost_text = f"${result.ledger.cost_usd:.2f}" if result.ledger else "—"
        lines.append(
            SUMMARY_ROW.format(
                kind=job.kind, feature=job.feature or "—", conclusion=result.conclusion, pr=pr, cost=cost_text
            )
        )
    tokens_in, tokens_out = sum(u.total_input for u in usage), sum(u.output_tokens for u in usage)
    elapsed = time.monotonic() - started
    lines.append(
        f"\nTotal {elapsed:.0f} s, {tokens_in:,} input / {tokens_out:,} output tokens, ${cost:.2f}.\n"
    )
    for result in results:
        if result.phases:
            lines.append(
                "\n" + " · ".join(f"{name} {seconds:.0f} s" for name, seconds in result.phases) + "\n"
            )
        if result.gates:
            lines.append(f"\nFailing gates: {', '.join(result.gates)}\n")
    rt.summary("".join(lines))
