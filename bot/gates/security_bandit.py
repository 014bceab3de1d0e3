"""Bandit in the sandbox with Specship's own configuration, its report read as findings."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot import sandbox
from bot.gates import Finding, Severity

MAX_REPORT_BYTES = 20 * 1024 * 1024

# Specship's own bandit configuration, written to a scratch file and passed with -c, so the
# project's .bandit / [tool.bandit] cannot switch checks off. Every check runs; only B101
# (assert_used) is skipped, and only in test files, where assert is how pytest works.
TEST_GLOBS = ("*/tests/*", "*/test/*", "*/testing/*", "*/test_*.py", "*_test.py", "*/conftest.py")
BANDIT_CONFIG: dict[str, object] = {"assert_used": {"skips": list(TEST_GLOBS)}}

# -- bandit ----------------------------------------------------------------------------------------


def bandit_argv(config: Path, report: Path, files: Iterable[str]) -> list[str]:
    """The fixed bandit command: -I keeps the repository off sys.path, -x '' drops bandit's
    default path exclusions (which would skip any path containing '.git', 'CVS', ...)."""
    return [
        sys.executable, "-I", "-m", "bandit",
        "-c", str(config), "--ignore-nosec", "-f", "json", "-o", str(report), "-q",
        "--severity-level", "all", "--confidence-level", "all", "-x", "",
        "--", *files,
    ]  # fmt: skip


@dataclass(frozen=True)
class BanditRun:
    """What one bandit run reported; `problem` says why it produced no report."""

    findings: list[Finding] = field(default_factory=list)
    problem: str = ""


def run_bandit(
    repo: Path,
    files: list[str],
    changed: dict[str, set[int]],
    timeout: float,
    prepare: Callable[[Path], object] = sandbox.prepare_workspace_for_sandbox,
) -> BanditRun:
    """Bandit on `files` (repo-relative) in the sandbox; issues on unchanged lines become warnings.

    `prepare` readies the workspace for the sandbox user (once per gate run when shared)."""
    if not files:
        return BanditRun()
    prepare(repo)
    with sandbox.scratch_dir() as scratch:
        config = scratch / "specship-bandit.yml"
        config.write_text(yaml.safe_dump(BANDIT_CONFIG), encoding="utf-8")
        config.chmod(0o644)
        report = scratch / "bandit.json"
        result = sandbox.run(bandit_argv(config, report, files), cwd=repo, timeout=timeout, isolate=True)
        try:
            data = json.loads(sandbox.read_untrusted_file(report, MAX_REPORT_BYTES))
        except (OSError, ValueError):
            tail = result.output.strip()[-500:]
            return BanditRun(problem=f"bandit {result.status} without a report: {tail}".strip())
    if not isinstance(data, dict):
        return BanditRun(problem="bandit wrote a report that is not a JSON object")
    return BanditRun(_bandit_findings(data, changed))


def _bandit_findings(data: dict[str, object], changed: dict[str, set[int]]) -> list[Finding]:
    findings = []
    results = data.get("results")
    for item in results if isinstance(results, list) else []:
        if not isinstance(item, dict):
            continue
        path = str(item.get("filename", "")).removeprefix("./")
        line = int(item.get("line_number") or 0) or None
        raw_span = item.get("line_range")
        span: list[object] = list(raw_span) if isinstance(raw_span, list) else [line]
        severity = str(item.get("issue_severity", "")).upper()
        level: Severity = "error" if severity in ("MEDIUM", "HIGH") else "warning"
        new = any(n in changed.get(path, set()) for n in span if isinstance(n, int))
        note = "" if new else " (unchanged since the base commit)"
        if not new:
            level = "warning"
        message = (
            f"bandit {item.get('test_id', '?')} {item.get('test_name', '')}: {item.get('issue_text', '')} "
            f"[severity {severity.lower()}, confidence {str(item.get('issue_confidence', '')).lower()}]{note}"
        )
        findings.append(Finding(message, path, line, level, rule=str(item.get("test_id", "bandit"))))
    errors = data.get("errors")
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, dict):
            path = str(item.get("filename", "")).removeprefix("./")
            reason = str(item.get("reason", "unknown error"))[:300]
            findings.append(
                Finding(f"bandit could not scan this file: {reason}", path, None, rule="bandit-error")
            )
    return findings
