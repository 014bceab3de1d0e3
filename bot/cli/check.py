"""`specship check`: every gate's verdict on a working tree, as text, JSON, SARIF or GitHub annotations."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bot import actions, git, sandbox
from bot.cli.common import existing_dir, load_settings
from bot.exceptions import FatalError
from bot.gates import LABELS, GateContext, GateResult, Verdict
from bot.gates.run import run_all
from bot.pipeline.layout import resolve_app_directory
from bot.speckit.api import catalog

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"error": "error", "warning": "warning", "notice": "note"}


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


def to_sarif(results: list[GateResult]) -> dict[str, Any]:
    """SARIF 2.1.0 for GitHub code scanning: one rule per gate (and per gate rule id)."""
    rules: dict[str, dict[str, Any]] = {}
    sarif_results = []
    for gate in results:
        for finding in gate.findings:
            rule_id = f"{gate.name}/{finding.rule}" if finding.rule else gate.name
            rules.setdefault(
                rule_id, {"id": rule_id, "shortDescription": {"text": f"Specship {gate.name} gate"}}
            )
            entry: dict[str, Any] = {
                "ruleId": rule_id,
                "level": _LEVELS[finding.severity],
                "message": {"text": finding.message},
            }
            if finding.file:
                location: dict[str, Any] = {"artifactLocation": {"uri": finding.file}}
                if finding.line:
                    location["region"] = {"startLine": finding.line}
                entry["locations"] = [{"physicalLocation": location}]
            sarif_results.append(entry)
        for gap in gate.unverified:
            # Never green: a check that could not be made is an error in code scanning too.
            rule_id = f"{gate.name}/{gap.rule}"
            rules.setdefault(
                rule_id, {"id": rule_id, "shortDescription": {"text": f"Specship {gate.name}: not verified"}}
            )
            entry = {
                "ruleId": rule_id,
                "level": "error",
                "message": {"text": f"not verified: {gap.what}. Fix: {gap.fix}"},
                "properties": {"verdict": "not verified", "fix": gap.fix},
            }
            if gap.file:
                location = {"artifactLocation": {"uri": gap.file}}
                if gap.line:
                    location["region"] = {"startLine": gap.line}
                entry["locations"] = [{"physicalLocation": location}]
            sarif_results.append(entry)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Specship",
                        "informationUri": "https://github.com/specship/specship",
                        "rules": list(rules.values()),
                    }
                },
                "results": sarif_results,
                "properties": {"verdicts": {gate.name: gate.verdict for gate in results}},
            }
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


def main(args: argparse.Namespace) -> int:
    repo = existing_dir(Path(args.repo))
    if not git.is_repo(repo):
        raise FatalError(f"{repo} is not a git repository.", "Run check inside a checkout.")
    settings = resolve_app_directory(repo, load_settings(repo))
    feature = None
    if args.feature:  # the one definition of a feature: unknown ones are refused with the known ones
        feature = catalog(repo, None, settings.specs_dir).locate(args.feature, settings.branch_prefix).name
    with sandbox.project_environment(repo, settings) as project:
        base = resolve_base(repo, args.base)
        ctx = GateContext(repo, base, settings, feature, project.python, project.env)
        # setup-command (above) keeps the runner's network; the tests and the app import get the
        # configured one.
        with sandbox.applied_policy(network=settings.sandbox_network):
            results = run_all(ctx)
    rt = actions.runtime()
    if args.format == "json":
        print(json.dumps(to_json(results), indent=2))
    elif args.format == "sarif":
        print(json.dumps(to_sarif(results), indent=2))
    elif args.format == "github":
        for gate in results:
            for finding in gate.findings:
                rt.annotate(
                    finding.severity,
                    f"[{gate.name}] {finding.message}",
                    file=finding.file,
                    line=finding.line,
                    title=f"Specship {gate.name}",
                )
            for gap in gate.unverified:
                rt.annotate(
                    "error",
                    f"[{gate.name}] not verified: {gap.what}. Fix: {gap.fix}",
                    file=gap.file,
                    line=gap.line,
                    title=f"Specship {gate.name}: not verified",
                )
        # findings quote test output and code: workflow commands in them must not act
        rt.relay(to_text(results))
    else:
        rt.relay(to_text(results))
    return 0 if all(r.passed for r in results) else 1
