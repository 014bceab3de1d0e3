"""SARIF for code scanning: every result located, rules with help and severity, valid against the schema."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.cli.sarif import Where, annotation_place, to_sarif
from bot.gates import Finding, GateResult, Unverified
from tests.cli.code_scanning import problems, schema_errors

FILES = {
    ".github/specship.yml": "app-directory: backend\n",
    "specs/001-x/spec.md": "# Feature\n",
    "backend/tests/test_tasks.py": "def test_x():\n    assert 1 == 2\n",
    "backend/src/api.py": "x = 1\n",
}


@pytest.fixture
def repo(git_repo: Callable[..., Path]) -> Path:
    return git_repo(FILES)


def where(repo: Path, **kwargs: Any) -> Where:
    return Where(repo, "backend", ".github/specship.yml", "specs/001-x/spec.md", **kwargs)


def failing_run(repo: Path) -> list[GateResult]:
    """Every kind of result a failing run produces, most of them with no file of their own."""
    return [
        GateResult(
            "pytest",
            "0 passed, 1 failed",
            (
                Finding("tests/test_tasks.py::test_x failed: assert 1 == 2"),
                Finding("collection error in tests/test_tasks.py: SyntaxError"),
                Finding("pytest timed out after 600 s"),
                Finding("results tampered with: exit status rewritten", rule="tampered-results"),
            ),
            unverified=(
                Unverified("no test was collected in backend", "set `test-command`", rule="no-tests"),
            ),
        ),
        GateResult(
            "security",
            "2 findings",
            (
                Finding("hard-coded password", str(repo / "backend/src/api.py"), 1, rule="secret"),
                Finding("B101 assert used", "backend/src/api.py", 1, "warning", "B101"),
                Finding("B102 exec used", "/etc/passwd", 3, rule="B102"),
            ),
            unverified=(Unverified("bandit is not installed", "install bandit", rule="bandit-error"),),
        ),
        GateResult(
            "fastapi_auth",
            "not verified",
            ran=False,
            unverified=(
                Unverified("no FastAPI app found", "set `app`", rule="no-app"),
                Unverified("router not resolved", "spell it out", "backend/src/api.py", 1, "unresolved"),
            ),
        ),
        GateResult(
            "contracts",
            "not verified",
            ran=False,
            unverified=(Unverified("no OpenAPI document", "make app.openapi() work", rule="no-openapi"),),
        ),
        GateResult(
            "guard",
            "not run",
            ran=False,
            unverified=(Unverified("no base", "fetch-depth: 0", rule="no-base"),),
        ),
        GateResult("acceptance", "1 problem", (Finding("criterion 'lists' names no test that proves it"),)),
    ]


def places(sarif: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    out = []
    for result in sarif["runs"][0]["results"]:
        physical = result["locations"][0]["physicalLocation"]
        out.append(
            (
                result["ruleId"],
                physical["artifactLocation"]["uri"],
                physical.get("region", {}).get("startLine"),
            )
        )
    return out


def test_a_failing_run_is_valid_sarif_that_code_scanning_takes_whole(repo: Path) -> None:
    sarif = to_sarif(failing_run(repo), where(repo))
    assert schema_errors(sarif) == []
    assert problems(sarif) == []
    assert places(sarif) == [
        # a pytest node id names its test file (relative to app-directory, the pytest rootdir)
        ("pytest", "backend/tests/test_tasks.py", None),
        ("pytest", "backend/tests/test_tasks.py", None),
        # no better place: the config, where test-command and app-directory are set
        ("pytest", ".github/specship.yml", None),
        ("pytest/tampered-results", ".github/specship.yml", None),
        ("pytest/no-tests", ".github/specship.yml", None),
        # an absolute path inside the repository becomes relative; one outside it is never used
        ("security/secret", "backend/src/api.py", 1),
        ("security/B101", "backend/src/api.py", 1),
        ("security/B102", ".github/specship.yml", None),
        ("security/bandit-error", ".github/specship.yml", None),
        ("fastapi_auth/no-app", ".github/specship.yml", None),
        ("fastapi_auth/unresolved", "backend/src/api.py", 1),
        # the contract and the criteria come from the feature: its spec
        ("contracts/no-openapi", "specs/001-x/spec.md", None),
        ("guard/no-base", ".github/specship.yml", None),
        ("acceptance", "specs/001-x/spec.md", None),
    ]


def test_a_fallback_place_says_so_and_is_no_annotation(repo: Path) -> None:
    run = failing_run(repo)
    sarif = to_sarif(run, where(repo))
    texts = {r["message"]["text"] for r in sarif["runs"][0]["results"]}
    assert "pytest timed out after 600 s (reported on .github/specship.yml: the gate named no file)" in texts
    assert "tests/test_tasks.py::test_x failed: assert 1 == 2" in texts
    pytest_gate = run[0]
    assert annotation_place("pytest", pytest_gate.findings[0], where(repo)) == (
        "backend/tests/test_tasks.py",
        None,
    )
    assert annotation_place("pytest", pytest_gate.findings[2], where(repo)) == (None, None)


def test_not_verified_gates_are_error_results_with_their_fix(repo: Path) -> None:
    sarif = to_sarif(failing_run(repo), where(repo))
    run = sarif["runs"][0]
    [gap] = [r for r in run["results"] if r["ruleId"] == "contracts/no-openapi"]
    assert gap["level"] == "error"
    assert gap["properties"] == {"verdict": "not verified", "fix": "make app.openapi() work"}
    assert gap["message"]["text"].startswith(
        "not verified: no OpenAPI document. Fix: make app.openapi() work"
    )
    assert run["properties"]["verdicts"] == {
        "pytest": "fail",
        "security": "fail",
        "fastapi_auth": "not verified",
        "contracts": "not verified",
        "guard": "not verified",
        "acceptance": "fail",
    }
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "contracts/no-openapi")
    assert "not-verified" in rule["properties"]["tags"]
    assert "It is never green." in rule["help"]["text"]


def test_every_rule_has_help_a_docs_link_and_a_security_severity(repo: Path) -> None:
    sarif = to_sarif(failing_run(repo), where(repo))
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {r["ruleId"] for r in sarif["runs"][0]["results"]}
    for rule in rules.values():
        assert rule["help"]["text"]
        assert rule["help"]["markdown"]
        assert rule["helpUri"].startswith("https://github.com/specship/specship/blob/main/docs/gates.md#")
        assert 0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
    severity = {rid: float(r["properties"]["security-severity"]) for rid, r in rules.items()}
    assert severity["security/secret"] == 9.0  # critical
    assert severity["pytest/tampered-results"] == 9.0
    assert severity["security/B102"] == 7.5  # an error of the security gate: high
    assert severity["security/B101"] == 4.0  # a warning: medium
    assert severity["fastapi_auth/no-app"] == 7.0  # could not check auth: as serious as a failure
    assert "security" in rules["security/secret"]["properties"]["tags"]
    assert rules["security/B101"]["defaultConfiguration"]["level"] == "warning"


def test_a_rule_carries_the_worst_severity_of_its_results(repo: Path) -> None:
    gates = [
        GateResult(
            "security",
            "two",
            (
                Finding("low", "backend/src/api.py", 1, "warning", "B999"),
                Finding("high", "backend/src/api.py", 1, "error", "B999"),
            ),
        )
    ]
    [rule] = to_sarif(gates, where(repo))["runs"][0]["tool"]["driver"]["rules"]
    assert rule["properties"]["security-severity"] == "7.5"


def test_the_spec_comes_first_for_the_feature_gates_and_the_config_can_be_absent(
    git_repo: Callable[..., Path],
) -> None:
    repo = git_repo({"README.md": "r\n"})
    gates = [
        GateResult("pytest", "x", (Finding("pytest exited with 3 (usage or collection error)"),)),
        GateResult("acceptance", "x", (Finding("the run ended before submit_report"),)),
    ]
    sarif = to_sarif(gates, Where(repo, ".", ".github/specship.yml", None))
    assert problems(sarif) == []
    assert schema_errors(sarif) == []
    # Nothing better exists: the config path still names where the fixing setting goes.
    assert [p[1] for p in places(sarif)] == [".github/specship.yml", ".github/specship.yml"]


def test_a_path_with_spaces_is_a_valid_uri(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({"my app/main.py": "x = 1\n"})
    gates = [GateResult("security", "x", (Finding("bad", "my app/main.py", 1, rule="B1"),))]
    sarif = to_sarif(gates, Where(repo))
    assert places(sarif) == [("security/B1", "my%20app/main.py", 1)]
    assert problems(sarif) == []


def test_an_empty_run_is_valid_too(repo: Path) -> None:
    sarif = to_sarif([GateResult("pytest", "1 passed")], where(repo))
    assert sarif["runs"][0]["results"] == []
    assert schema_errors(sarif) == []
    assert problems(sarif) == []


def test_the_oracle_rejects_what_code_scanning_rejects(repo: Path) -> None:
    good = to_sarif(failing_run(repo), where(repo))
    unlocated = copy.deepcopy(good)
    del unlocated["runs"][0]["results"][2]["locations"]
    assert problems(unlocated) == ["runs/0/results/2 (pytest): no location"]
    absolute = copy.deepcopy(good)
    absolute["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = (
        "file:///etc/passwd"
    )
    assert problems(absolute) == [
        "runs/0/results/0 (pytest)/locations/0: uri 'file:///etc/passwd' is not relative "
        "to the repository root"
    ]
    bare_rule = copy.deepcopy(good)
    del bare_rule["runs"][0]["tool"]["driver"]["rules"][0]["help"]
    del bare_rule["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"]
    assert len(problems(bare_rule)) == 2
    invalid = copy.deepcopy(good)
    invalid["runs"][0]["results"][0]["level"] = "fatal"
    assert schema_errors(invalid)
