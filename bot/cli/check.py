"""`specship check`: every gate's verdict on a working tree, as text, JSON, SARIF or GitHub annotations."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot import actions, git, sandbox
from bot.cli.common import existing_dir, load_settings
from bot.cli.sarif import Where, annotation_place, to_sarif
from bot.exceptions import FatalError
from bot.gates import LABELS, Author, GateContext, GateResult, Verdict
from bot.gates.run import run_all
from bot.pipeline.layout import resolve_app_directory
from bot.settings import Settings
from bot.speckit.api import catalog

NOT_VERIFIED_ANNOTATION = "[{gate}] not verified: {what}. Fix: {fix}"
AUTHOR_NOTE = "Judging {author}'s change ({why}); see `--author`."


def resolve_base(repo: Path, base: str | None) -> str:
    """The base revision: --base, else the merge base with origin's default branch, else HEAD."""
    candidates = [base] if base else ["origin/HEAD", "origin/main", "origin/master", "main", "master"]
    for rev in candidates:
        sha = git.rev_parse(repo, rev) if rev else None
        if sha:
            if base:
                return sha
            try:
                return git.run(repo, "merge-base", sha, "HEAD").decode().strip()
            except git.GitError:
                continue
    if base:
        raise FatalError(
            f"--base {base} is not a commit in {repo}.", "Fetch it (fetch-depth: 0) or pass a SHA."
        )
    head = git.rev_parse(repo, "HEAD")
    if head is None:
        raise FatalError(f"{repo} has no commits.", "Commit the code first.")
    return head


def overall(results: list[GateResult]) -> Verdict:
    """fail if any gate failed, else not verified if any could not check, else pass."""
    verdicts = {r.verdict for r in results}
    return "fail" if "fail" in verdicts else "not verified" if "not verified" in verdicts else "pass"


def to_json(results: list[GateResult]) -> dict[str, Any]:
    return {
        "passed": all(r.passed for r in results),
        "verdict": overall(results),
        "gates": [
            {
                "name": r.name,
                "verdict": r.verdict,
                "passed": r.passed,
                "ran": r.ran,
                "summary": r.summary,
                "seconds": round(r.seconds, 2),
                "findings": [
                    {
                        "severity": f.severity,
                        "message": f.message,
                        "file": f.file,
                        "line": f.line,
                        "rule": f.rule,
                    }
                    for f in r.findings
                ],
                "not_verified": [
                    {"what": u.what, "fix": u.fix, "file": u.file, "line": u.line, "rule": u.rule}
                    for u in r.unverified
                ],
            }
            for r in results
        ],
    }


def to_text(results: list[GateResult]) -> str:
    lines = []
    for gate in results:
        lines.append(f"{gate.label:<12}  {gate.name:<13} {gate.summary}")
        lines.extend(f"      {f.severity}: {f.render()}" for f in gate.findings)
        lines.extend(f"      not verified: {u.render()}" for u in gate.unverified)
    lines.append(f"Verdict: {LABELS[overall(results)]}")
    return "\n".join(lines)


def author_of(repo: Path, settings: Settings, flag: str, env: dict[str, str]) -> tuple[Author, str]:
    """Whose change `check` judges, and why: the flag, else the branch (Specship's prefix: agent).

    The pull request's head branch (GITHUB_HEAD_REF) decides in Actions: a pull_request checkout
    is a detached merge commit, so the local branch says nothing there.
    """
    if flag in ("human", "agent"):
        return ("human" if flag == "human" else "agent"), f"--author {flag}"
    branch = env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME") or _local_branch(repo)
    prefix = settings.branch_prefix
    if branch.startswith(prefix):
        return "agent", f"branch {branch} starts with {prefix}"
    return "human", f"branch {branch or '(detached)'} is not a {prefix} branch"


def _local_branch(repo: Path) -> str:
    try:
        return git.run(repo, "symbolic-ref", "--quiet", "--short", "HEAD").decode().strip()
    except git.GitError:
        return ""  # detached


def main(args: argparse.Namespace) -> int:
    repo = existing_dir(Path(args.repo))
    if not git.is_repo(repo):
        raise FatalError(f"{repo} is not a git repository.", "Run check inside a checkout.")
    settings = resolve_app_directory(repo, load_settings(repo))
    feature, spec = None, None
    if args.feature:  # the one definition of a feature: unknown ones are refused with the known ones
        ref = catalog(repo, None, settings.specs_dir).locate(args.feature, settings.branch_prefix)
        feature, spec = ref.name, f"{ref.path}/spec.md"
    rt = actions.runtime()
    author, why = author_of(repo, settings, getattr(args, "author", "auto"), rt.env)
    rt.info(AUTHOR_NOTE.format(author="the agent" if author == "agent" else "a human", why=why))
    with sandbox.project_environment(repo, settings) as project:
        base = resolve_base(repo, args.base)
        ctx = GateContext(repo, base, settings, feature, project.python, project.env, author)
        # setup-command (above) keeps the runner's network; the tests and the app import get the
        # configured one.
        with sandbox.applied_policy(network=settings.sandbox_network):
            results = run_all(ctx)
    where = Where(repo, settings.app_directory, settings.config_file, spec)
    if args.format == "json":
        print(json.dumps(to_json(results), indent=2))
    elif args.format == "sarif":
        print(json.dumps(to_sarif(results, where), indent=2))
    elif args.format == "github":
        for gate in results:
            for finding in gate.findings:
                file, line = annotation_place(gate.name, finding, where)
                rt.annotate(
                    finding.severity,
                    f"[{gate.name}] {finding.message}",
                    file=file,
                    line=line,
                    title=f"Specship {gate.name}",
                )
            for gap in gate.unverified:
                file, line = annotation_place(gate.name, gap, where)
                rt.annotate(
                    "error",
                    NOT_VERIFIED_ANNOTATION.format(gate=gate.name, what=gap.what, fix=gap.fix),
                    file=file,
                    line=line,
                    title=f"Specship {gate.name}: not verified",
                )
        # findings quote test output and code: workflow commands in them must not act
        rt.relay(to_text(results))
    else:
        rt.relay(to_text(results))
    return 0 if all(r.passed for r in results) else 1
