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


def outcome_of(node: str, outcomes: Mapping[str, str]) -> str:
    """The JUnit outcome of a node id (a parametrized or class node aggregates its cases); else "not run"."""
    node = node.strip()
    if node in outcomes:
        return outcomes[node]
    found = [result for key, result in outcomes.items() if _same_test(node, key)]
    if not found:
        return "not run"
    for bad in ("error", "failed", "skipped"):
        if bad in found:
            return bad
    return "passed"


def _same_test(node: str, key: str) -> bool:
    def direct(n: str, k: str) -> bool:
        return k == n or k.startswith((n + "::", n + "["))

    node_file, key_file = node.split("::", 1)[0], key.split("::", 1)[0]
    if node_file.endswith("/" + key_file):
        node = node[len(node_file) - len(key_file) :]
    elif key_file.endswith("/" + node_file):
        key = key[len(key_file) - len(node_file) :]
    return direct(node, key)


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
        bad = [t for t in tests if outcome_of(t, outcomes) != "passed"]
        for node in bad:
            state = outcome_of(node, outcomes)
            state = "not run (no such test in the JUnit report)" if state == "not run" else state
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
