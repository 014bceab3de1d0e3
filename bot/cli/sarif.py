"""SARIF 2.1.0 that GitHub code scanning accepts: every result located, rules with help and severity."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from bot.gates import Finding, GateResult, Unverified

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/specship/specship"
GATES_DOC = f"{INFO_URI}/blob/main/docs/gates.md"
LEVELS = {"error": "error", "warning": "warning", "notice": "note"}
PROBLEM = {"error": "error", "warning": "warning", "notice": "recommendation"}
# Code scanning's limits (GitHub docs, "SARIF support for code scanning"): longer texts are cut.
MAX_DESCRIPTION = 1024
NOT_VERIFIED_TEXT = "not verified: {what}. Fix: {fix}"
FALLBACK_NOTE = " (reported on {uri}: the gate named no file)"


@dataclass(frozen=True)
class GateInfo:
    """What one gate checks, for a rule's help text, its docs anchor and its default severity."""

    title: str
    help: str
    anchor: str
    severity: float  # security-severity of an error of this gate (0.0-10.0)
    tags: tuple[str, ...]


GATES: dict[str, GateInfo] = {
    "pytest": GateInfo(
        "tests pass",
        "The project's tests ran in the sandbox; their outcome comes from Specship's result channel, "
        "not from a report the tests could edit. Fix the failing test or the code it tests; a test "
        "that already failed at the base revision is a warning, not blamed on the change.",
        "pytest-results-the-tests-cannot-rewrite",
        5.0,
        ("correctness", "tests"),
    ),
    "security": GateInfo(
        "no security finding",
        "bandit (with the project's configuration, nosec ignored), secrets on added lines, leaked "
        "errors, SQL built from strings, JWT decoding without verification and hard-coded secret "
        "defaults. Fix the code at the location shown; a secret must move to the environment.",
        "security-bandit-secrets-fastapi-leak-patterns",
        7.5,
        ("security",),
    ),
    "fastapi_auth": GateInfo(
        "every non-public route is authenticated",
        "Every route not listed in `public-routes` must refuse requests without credentials, with a "
        "wrongly signed, an expired or an unsigned token (a behavioural probe of the real app), and "
        "queries on owned models must be scoped to the current user. Add the auth dependency to the "
        "route (or list it in `public-routes` if it is public by design).",
        "fastapi_auth-every-non-public-route-refuses-bad-credentials",
        8.8,
        ("security", "authentication"),
    ),
    "contracts": GateInfo(
        "the API matches its OpenAPI contract",
        "The app's OpenAPI document must offer every path, method, status code, field and type the "
        "feature's contract declares. Change the code (or the contract, by a human) so they agree.",
        "contracts-the-api-against-its-openapi-contract",
        4.0,
        ("correctness", "api"),
    ),
    "guard": GateInfo(
        "no weakened tests or protected paths",
        "A change may not delete, skip or weaken tests, relax the test configuration, tamper with the "
        "test runner or its report, or edit protected paths (specs/, workflows, git files, Specship's "
        "configuration). Restore what the change removed or relaxed.",
        "guard-no-cheating-on-tests-no-protected-paths",
        7.0,
        ("security", "test-integrity"),
    ),
    "acceptance": GateInfo(
        "every acceptance criterion is proven by a passing test",
        "Each acceptance scenario of the spec must map to a criterion with a test that ran and passed.",
        "what-each-gate-catches-and-what-it-cannot",
        4.0,
        ("correctness", "spec"),
    ),
}
UNKNOWN_GATE = GateInfo(
    "a Specship gate", "See the Specship gates documentation.", "the-gates", 5.0, ("correctness",)
)

# Rules whose risk differs from their gate's default (security-severity, 0.0-10.0).
RULE_SEVERITY: dict[str, float] = {
    "pytest/tampered-results": 9.0,
    "security/secret": 9.0,
    "security/secret-default": 8.0,
    "security/sql-format": 8.0,
    "security/jwt-verify": 9.1,
    "security/error-leak": 5.3,
    "security/needs-human-review": 4.0,
    "fastapi_auth/owner-scope": 8.1,
    "guard/report-tamper": 9.0,
    "guard/pytest-hook": 8.0,
    "guard/runner-exit": 8.0,
    "guard/protected-path": 6.0,
}
# Rules that mean "could not check": as serious as the failure they could hide, never green.
NOT_VERIFIED_SEVERITY = 7.0
WARNING_SEVERITY = {"warning": 4.0, "notice": 2.0}


@dataclass(frozen=True)
class Where:
    """What a result without a file of its own can point at: the test file, the spec, the config."""

    repo: Path
    app_directory: str = "."
    config_file: str = ".github/specship.yml"
    spec_file: str | None = None

    def exists(self, path: str) -> bool:
        return (self.repo / path).is_file()

    def relative(self, path: str) -> str | None:
        """`path` as a clean repository-relative POSIX path, or None when it leaves the repository."""
        candidate = Path(path)
        if candidate.is_absolute():
            try:
                candidate = candidate.resolve().relative_to(self.repo.resolve())
            except ValueError:
                return None
        parts = PurePosixPath(candidate.as_posix()).parts
        if not parts or ".." in parts:
            return None
        return PurePosixPath(*parts).as_posix().removeprefix("./")

    def test_file(self, message: str) -> str | None:
        """The test file a pytest node id at the start of the message names (rootdir: app-directory)."""
        match = _NODE.match(message)
        if not match:
            return None
        node_path = match.group("path")
        for candidate in (str(PurePosixPath(self.app_directory) / node_path), node_path):
            rel = self.relative(candidate)
            if rel and self.exists(rel):
                return rel
        return None

    def fallback(self, gate: str) -> str:
        """The file a gate's location-less result is reported on: spec or config, whichever exists."""
        spec_first = gate in ("acceptance", "contracts")
        order = [self.spec_file, self.config_file] if spec_first else [self.config_file, self.spec_file]
        for path in order:
            if path and self.exists(path):
                return path
        # Nothing better exists: the config path still names where the setting that fixes it goes.
        return self.spec_file if spec_first and self.spec_file else self.config_file


_NODE = re.compile(r"^(?:collection error in )?(?P<path>[^\s:]+\.py)(?:::|:|\s|$)")


def locate(gate: str, item: Finding | Unverified, where: Where) -> tuple[str, int | None, bool]:
    """(repository path, line, whether it is a fallback) for one result: never without a file."""
    if item.file:
        rel = where.relative(item.file)
        if rel:
            return rel, item.line, False
    message = item.message if isinstance(item, Finding) else item.what
    test = where.test_file(message) if gate == "pytest" else None
    if test:
        return test, None, False
    return where.fallback(gate), None, True


def annotation_place(gate: str, item: Finding | Unverified, where: Where) -> tuple[str | None, int | None]:
    """Where a GitHub annotation goes: the result's own place (a test file for pytest), else none."""
    path, line, fallback = locate(gate, item, where)
    return (None, None) if fallback else (path, line)


def _severity(rule_id: str, level: str, unverified: bool, gate: GateInfo) -> float:
    if unverified:
        return max(NOT_VERIFIED_SEVERITY, RULE_SEVERITY.get(rule_id, 0.0))
    if rule_id in RULE_SEVERITY:
        return RULE_SEVERITY[rule_id]
    return gate.severity if level == "error" else WARNING_SEVERITY.get(level, gate.severity)


class _Rules:
    """The run's rules, one per gate rule id, each with its help text and security-severity."""

    def __init__(self) -> None:
        self.rules: dict[str, dict[str, Any]] = {}

    def add(self, gate: str, rule: str, level: str, unverified: bool) -> str:
        rule_id = f"{gate}/{rule}" if rule else gate
        info = GATES.get(gate, UNKNOWN_GATE)
        severity = _severity(rule_id, level, unverified, info)
        known = self.rules.get(rule_id)
        if known is not None:
            # One rule, several results: the rule carries the worst severity among them.
            props = known["properties"]
            props["security-severity"] = f"{max(float(props['security-severity']), severity):.1f}"
            return rule_id
        what = f"{gate}: could not verify that {info.title}" if unverified else f"{gate}: {info.title}"
        help_text = info.help + (
            " A not-verified result means the gate could not check this; its message names the one "
            "setting or fix that makes it checkable. It is never green."
            if unverified
            else ""
        )
        self.rules[rule_id] = {
            "id": rule_id,
            "name": _pascal(rule_id),
            "shortDescription": {"text": f"Specship {what}"[:MAX_DESCRIPTION]},
            "fullDescription": {"text": help_text[:MAX_DESCRIPTION]},
            "helpUri": f"{GATES_DOC}#{info.anchor}",
            "help": {
                "text": help_text,
                "markdown": f"**Specship {what}**\n\n{help_text}\n\n[The gates]({GATES_DOC}#{info.anchor})",
            },
            "defaultConfiguration": {"level": "error" if unverified else LEVELS.get(level, "warning")},
            "properties": {
                "tags": list(info.tags) + (["not-verified"] if unverified else []),
                "precision": "high",
                "problem.severity": "error" if unverified else PROBLEM.get(level, "warning"),
                "security-severity": f"{severity:.1f}",
            },
        }
        return rule_id


def _pascal(rule_id: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rule_id) if part)


def _location(uri: str, line: int | None) -> dict[str, Any]:
    # A path relative to the repository root is what code scanning maps onto the checkout.
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(uri)}}
    if line and line >= 1:
        physical["region"] = {"startLine": int(line)}
    return {"physicalLocation": physical}


def to_sarif(results: list[GateResult], where: Where) -> dict[str, Any]:
    """SARIF 2.1.0 for GitHub code scanning: one rule per gate rule id, every result located."""
    rules = _Rules()
    sarif_results: list[dict[str, Any]] = []
    for gate in results:
        for finding in gate.findings:
            level = LEVELS[finding.severity]
            rule_id = rules.add(gate.name, finding.rule, finding.severity, False)
            uri, line, fallback = locate(gate.name, finding, where)
            text = finding.message + (FALLBACK_NOTE.format(uri=uri) if fallback else "")
            sarif_results.append(
                {
                    "ruleId": rule_id,
                    "level": level,
                    "message": {"text": text},
                    "locations": [_location(uri, line)],
                    "properties": {"verdict": gate.verdict},
                }
            )
        for gap in gate.unverified:
            # Never green: a check that could not be made is an error in code scanning too.
            rule_id = rules.add(gate.name, gap.rule, "error", True)
            uri, line, fallback = locate(gate.name, gap, where)
            text = NOT_VERIFIED_TEXT.format(what=gap.what, fix=gap.fix)
            sarif_results.append(
                {
                    "ruleId": rule_id,
                    "level": "error",
                    "message": {"text": text + (FALLBACK_NOTE.format(uri=uri) if fallback else "")},
                    "locations": [_location(uri, line)],
                    "properties": {"verdict": "not verified", "fix": gap.fix},
                }
            )
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Specship",
                        "informationUri": INFO_URI,
                        "rules": list(rules.rules.values()),
                    }
                },
                "results": sarif_results,
                "properties": {"verdicts": {gate.name: gate.verdict for gate in results}},
            }
        ],
    }
