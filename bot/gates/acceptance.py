"""The acceptance gate: every spec scenario has a criterion, and every criterion a passing test."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.gates import Finding, GateResult
from bot.speckit.model import Spec

NAME = "acceptance"
_KEY = re.compile(r"^\s*US\s*(\d+)\s*[-_ ]?\s*(?:AS)?\s*[-_ ]?(\d+)\s*$", re.IGNORECASE)


def scenario_key(text: str) -> str | None:
    """'US1-AS2', 'us1-2' and 'US1 AS2' all name scenario 2 of user story 1 (spec key 'US1-2')."""
    match = _KEY.match(text or "")
    return f"US{int(match.group(1))}-{int(match.group(2))}" if match else None


def gate(spec: Spec | None, report: Mapping[str, Any] | None, outcomes: Mapping[str, str]) -> GateResult:
    """Judge the model's acceptance criteria against the spec's scenarios and the JUnit outcomes."""
    if report is None:
        return GateResult(
            NAME, "no report: the model did not finish", (Finding("the run ended before submit_report"),)
        )
    findings: list[Finding] = []
    criteria = list(report.get("acceptance_criteria") or [])
    proven = 0
    for criterion in criteria:
        label = criterion.get("id") or criterion.get("criterion", "")[:60]
        tests = [str(t) for t in criterion.get("tests") or []]
        if not tests:
            findings.append(Finding(f"criterion {label!r} names no test that proves it"))
            continue
        bad = [t for t in tests if outcomes.get(t) != "passed"]
        for node in bad:
            state = outcomes.get(node, "not run (no such test in the JUnit report)")
            findings.append(Finding(f"criterion {label!r}: {node} {state}"))
        proven += not bad
    if spec is not None:
        covered = {scenario_key(str(c.get("id", ""))) for c in criteria}
        for story in spec.stories:
            for scenario in story.scenarios:
                key = f"{story.key}-{scenario.number}"
                if key not in covered:
                    findings.append(
                        Finding(
                            f"scenario {story.key}-AS{scenario.number} has no acceptance criterion "
                            f"(give it id '{story.key}-AS{scenario.number}')",
                            file=spec.path,
                            line=scenario.line,
                        )
                    )
    summary = f"{proven} of {len(criteria)} criteria proven by passing tests"
    return GateResult(NAME, summary, tuple(findings))
