"""The `Specship` check run of a head commit: the gates' verdict, one annotation per finding."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.gates import Finding, GateResult, Unverified
from bot.github.types import Annotation, AnnotationLevel, CheckConclusion, CheckRunSpec
from bot.report.markdown import code, prose

CHECK_NAME = "Specship"
LEVELS: dict[str, AnnotationLevel] = {"error": "failure", "warning": "warning", "notice": "notice"}
MAX_TEXT_FINDINGS = 200
MERGE_SIGNAL = (
    "This check run is Specship's verdict on this commit, from the gates it ran itself (never the "
    "model's word): require `Specship` in a branch protection rule or ruleset so a pull request "
    "merges only when it passes."
)
TITLES = {
    "success": "Every gate passed",
    "clarification": "Waiting for answers to Specship's questions",
    "stopped": "Stopped before finishing",
}


def not_verified(gate: GateResult) -> bool:
    """A gate that could not check what it is for (and found no error): never green."""
    return gate.verdict == "not verified"


def conclusion_of(outcome: str, gates: Sequence[GateResult]) -> CheckConclusion:
    """success only when the run succeeded and every gate ran and passed. Not verified is a
    failure, not `neutral`: branch protection treats neutral like success."""
    if outcome == "clarification":
        return "action_required"
    if outcome == "success" and gates and all(g.passed and not not_verified(g) for g in gates):
        return "success"
    return "failure"


def repo_path(repo: Path, app_directory: str, file: str) -> str | None:
    """A finding's file relative to the repository root, or None when it is outside it."""
    root = repo.resolve()
    candidate = Path(file)
    if not candidate.is_absolute():
        for base in (root, root / app_directory):
            if (base / candidate).exists():
                candidate = base / candidate
                break
        else:
            candidate = root / candidate
    try:
        return candidate.resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def annotations_of(gates: Sequence[GateResult], repo: Path, app_directory: str) -> list[Annotation]:
    """One annotation per finding that names a file in the repository (line 1 when it has none)."""
    found = []
    for gate in gates:
        for finding in gate.findings:
            path = repo_path(repo, app_directory, finding.file) if finding.file else None
            if path is None:
                continue
            title = f"{gate.name}: {finding.rule}" if finding.rule else gate.name
            level = LEVELS.get(finding.severity, "failure")
            found.append(Annotation(path, max(finding.line or 1, 1), level, finding.message[:2000], title))
    return found


def _title(outcome: str, gates: Sequence[GateResult], conclusion: CheckConclusion) -> str:
    if conclusion == "success" or (outcome in TITLES and not gates):
        return TITLES.get(outcome, TITLES["success"])
    failed = [g.name for g in gates if not g.passed and not not_verified(g)]
    unverified = [g.name for g in gates if not_verified(g)]
    parts = []
    if failed:
        parts.append(f"{len(failed)} gate{'s' if len(failed) > 1 else ''} failed: {', '.join(failed)}")
    if unverified:
        parts.append(f"not verified: {', '.join(unverified)}")
    return "; ".join(parts) or TITLES.get(outcome, "Not every gate passed")


def _status(gate: GateResult) -> str:
    return "⚪ not verified" if not_verified(gate) else "✅ passed" if gate.passed else "❌ failed"


def _finding_line(gate: GateResult, finding: Finding) -> str:
    where = f"{code(finding.location, cell=False)} " if finding.location else ""
    return f"- **{gate.name}** [{finding.severity}] {where}{prose(finding.message, 500)}"


def _gap_line(gate: GateResult, gap: Unverified) -> str:
    where = f"{code(gap.location, cell=False)} " if gap.location else ""
    return f"- **{gate.name}** [not verified] {where}{prose(gap.what, 500)} (fix: {prose(gap.fix, 300)})"


def check_run_spec(
    *,
    outcome: str,
    gates: Sequence[GateResult],
    head_sha: str,
    repo: Path,
    app_directory: str = ".",
    details_url: str = "",
    feature: str = "",
    unfinished: Sequence[str] = (),
) -> CheckRunSpec:
    """The completed `Specship` check run for head_sha (the caller publishes it)."""
    conclusion = conclusion_of(outcome, gates)
    rows = [f"| {code(g.name)} | {_status(g)} | {prose(g.summary, 300, cell=True)} |" for g in gates] or [
        "| — | ⚪ no gate ran | the run ended before the gates |"
    ]
    summary = "\n".join(
        [
            f"Feature {code(feature, cell=False)}." if feature else "",
            "",
            "| Gate | Result | Summary |",
            "|---|---|---|",
            *rows,
            "",
            *(f"- {prose(item, 500)}" for item in unfinished),
            "",
            MERGE_SIGNAL,
        ]
    ).strip()
    lines = [_finding_line(g, f) for g in gates for f in g.findings]
    lines += [_gap_line(g, u) for g in gates for u in g.unverified]
    text = "\n".join(lines[:MAX_TEXT_FINDINGS])
    if len(lines) > MAX_TEXT_FINDINGS:
        text += f"\n\n… and {len(lines) - MAX_TEXT_FINDINGS} more findings (the job log has them all)."
    return CheckRunSpec(
        name=CHECK_NAME,
        head_sha=head_sha,
        conclusion=conclusion,
        title=_title(outcome, gates, conclusion),
        summary=summary,
        text=text,
        annotations=tuple(annotations_of(gates, repo, app_directory)),
        details_url=details_url,
        external_id=feature,
    )
