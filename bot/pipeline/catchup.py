"""Push catch-up: a push run also implements the features a run GitHub dropped never got to.

GitHub keeps one running and one pending run per concurrency group; when a newer run queues,
the pending one is cancelled before it starts. The single-job workflow puts every push to the
default branch in one group, so a push's features can be lost that way. Each push run
therefore leaves a record, a `Specship push` check run on the commit it was started for, and
the next push run looks back for the newest such record: every feature whose spec changed
after it (before this push) and was not implemented since (no Specship PR, or its PR's marker
base still lacks the change) is implemented too. Without any record (the first run, or a
token that cannot write checks) only features with a Specship PR are compared, so a feature
people implemented by hand is never taken over. A matrix job (SPECSHIP_JOB) needs none of it:
its group is per feature, and the newer pending job implements the newest spec anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import git
from bot.exceptions import FatalError
from bot.github.retry import GitHubApiError
from bot.github.types import CheckRunSpec, PrInfo
from bot.pipeline.context import JobResult, RunEnv
from bot.report.build import spec_hash
from bot.report.markers import marker_of
from bot.speckit import api as specs
from bot.trigger.plan import Job, delta_text
from bot.trigger.types import SpecsPushed

PUSH_CHECK = "Specship push"
LOOK_BACK = 10  # spec-changing commits of the default branch searched for the newest record
CATCH_UP = "catch-up"  # Job.change of a feature another push changed


@dataclass(frozen=True)
class CatchUp:
    """The features to implement beside the push's own, with what changed in each."""

    jobs: tuple[Job, ...]
    deltas: dict[str, str]
    notes: tuple[str, ...] = ()


def spec_commits(run: RunEnv, before: str) -> list[str]:
    """The newest commits up to `before` (first parent) that changed specs/, newest first."""
    if before == git.ZERO_SHA:
        return []
    out = git.run(
        run.workspace, "log", "--first-parent", "--format=%H", f"-n{LOOK_BACK}", before, "--", "specs/"
    )
    return out.decode().split()


def last_record(run: RunEnv, commits: Sequence[str]) -> str | None:
    """The newest of commits that carries this App's push record, or None."""
    me = run.host.whoami().lower().removesuffix("[bot]")
    for sha in commits:
        try:
            runs = run.host.check_runs(sha, PUSH_CHECK)
        except GitHubApiError as exc:  # a personal token, or no `checks: read`
            run.rt.info(f"catch-up: cannot read check runs ({exc.cause}); comparing PR markers only")
            return None
        if any(r.app_slug.lower() == me for r in runs):
            return sha
    return None


def find(run: RunEnv, trigger: SpecsPushed, own: Sequence[str]) -> CatchUp:
    """The catch-up jobs of this push run (see the module docstring)."""
    commits = spec_commits(run, trigger.before)
    if not commits:
        return CatchUp((), {})
    record = last_record(run, commits)
    # After the record: what that run had not seen. Without one: the commits looked at, all of them.
    oldest = commits[-1]
    since = record or (f"{oldest}^" if git.rev_parse(run.workspace, f"{oldest}^") else git.ZERO_SHA)
    try:
        changed = specs.delta(run.workspace, since, trigger.before, specs_dir=run.settings.specs_dir)
    except FatalError as exc:
        run.rt.annotate("warning", f"Could not look for features a dropped run left: {exc.cause}")
        return CatchUp((), {})
    jobs: list[Job] = []
    deltas: dict[str, str] = {}
    notes: list[str] = []
    for feature in changed.work:
        if feature.name in own or feature.status == "deleted":
            continue
        branch = run.settings.branch_prefix + feature.name
        pulls = run.host.list_pulls(branch)
        if record is None and not pulls:
            continue  # no record to go by: only features Specship already owns
        pending = _still_pending(run, feature.name, feature.path, pulls[0] if pulls else None, trigger.after)
        if pending is None:
            continue
        jobs.append(Job("implement", feature.name, branch, change=CATCH_UP))
        deltas[feature.name] = pending
        notes.append(f"feature {feature.name} changed in an earlier push whose run never started")
    return CatchUp(tuple(jobs), deltas, tuple(notes))


def _still_pending(run: RunEnv, feature: str, folder: str, pr: PrInfo | None, head: str) -> str | None:
    """What changed in the feature's spec since Specship last implemented it ("" when there is
    no earlier PR to compare with), or None when its latest PR already has the change."""
    marker = marker_of(pr.body) if pr else None
    base = marker.get("base") if marker else None
    if not isinstance(base, str):
        return ""
    try:
        found = specs.delta(
            run.workspace, base, head, only={folder}, specs_dir=run.settings.specs_dir
        ).feature(feature)
    except FatalError:  # the marker's base is not in this checkout: compare the hashes
        return None if marker and marker.get("spec_hash") == spec_hash(run.workspace, folder, head) else ""
    if found is None or not found.is_work:
        return None
    return delta_text(found)


def record(run: RunEnv, trigger: SpecsPushed, jobs: Sequence[Job], results: Sequence[JobResult]) -> None:
    """Leave this push run's record on the pushed commit (best effort: a refusal is logged)."""
    rows = []
    for job, result in zip(jobs, results, strict=False):
        pr = f"[#{result.pr.number}]({result.pr.html_url})" if result.pr else "—"
        why = " (caught up)" if job.change == CATCH_UP else ""
        rows.append(f"| `{job.feature}`{why} | {result.conclusion} | {pr} |")
    failed = len(results) < len(jobs) or any(r.exit_code for r in results)
    summary = "\n".join(
        [
            "Specship ran for this push. A later push run looks for this record to find the features "
            "of pushes whose run GitHub cancelled before it started.",
            "",
            "| Feature | Conclusion | Pull request |",
            "|---|---|---|",
            *rows,
        ]
    )
    spec = CheckRunSpec(
        name=PUSH_CHECK,
        head_sha=trigger.after,
        conclusion="failure" if failed else "success",
        title=f"Implemented {len(jobs)} feature{'s' if len(jobs) != 1 else ''} of this push",
        summary=summary,
        details_url=run.run_url,
    )
    try:
        run.host.publish_check_run(spec)
    except GitHubApiError as exc:
        run.rt.annotate("warning", f"Could not record this push run ({exc.cause}); {PUSH_CHECK} is missing.")
