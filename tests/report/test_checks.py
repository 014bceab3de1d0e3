"""The `Specship` check run built from the gates: conclusion, title, annotations (bot.report.checks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.gates import Finding, GateResult, Unverified
from bot.report.checks import CHECK_NAME, MERGE_SIGNAL, check_run_spec, conclusion_of, repo_path

PASSED = GateResult("pytest", "12 passed")
FAILED = GateResult("guard", "1 problem", (Finding("test deleted", "backend/tests/test_a.py", 3, rule="x"),))
UNVERIFIED = GateResult("fastapi_auth", "the app did not import", ran=False)
# It ran, found no error, but could not check one route: not verified all the same.
GAP = Unverified("GET /admin/dump: authenticated by name only", "set `app`", "app/main.py", 9)
PARTLY = GateResult("fastapi_auth", "1 route not verified", unverified=(GAP,))


@pytest.mark.parametrize(
    ("outcome", "gates", "expected"),
    [
        ("success", [PASSED], "success"),
        ("success", [], "failure"),  # no gate ran: nothing was verified
        ("success", [PASSED, UNVERIFIED], "failure"),  # not verified is never green (nor neutral)
        ("success", [PASSED, PARTLY], "failure"),  # a gate that ran but could not check everything
        ("draft", [PASSED, FAILED], "failure"),
        ("stopped", [PASSED], "failure"),
        ("clarification", [], "action_required"),
    ],
)
def test_conclusion_is_success_only_when_every_gate_ran_and_passed(
    outcome: str, gates: list[GateResult], expected: str
) -> None:
    assert conclusion_of(outcome, gates) == expected


def test_findings_become_annotations_with_repository_paths(tmp_path: Path) -> None:
    (tmp_path / "backend/tests").mkdir(parents=True)
    (tmp_path / "backend/tests/test_a.py").write_text("x\n")
    (tmp_path / "backend/src").mkdir()
    (tmp_path / "backend/src/main.py").write_text("x\n")
    security = GateResult(
        "security",
        "2 findings",
        (
            Finding("hard-coded secret", "src/main.py", 7, rule="B105"),  # relative to app-directory
            Finding("a note", str(tmp_path / "backend/src/main.py"), None, "notice"),
            Finding("no file at all"),
            Finding("outside", "/etc/passwd", 1),
        ),
    )
    spec = check_run_spec(
        outcome="draft",
        gates=[PASSED, FAILED, security, UNVERIFIED],
        head_sha="a" * 40,
        repo=tmp_path,
        app_directory="backend",
        details_url="https://example.invalid/run",
        feature="002-x",
    )
    assert (spec.name, spec.conclusion, spec.head_sha) == (CHECK_NAME, "failure", "a" * 40)
    assert spec.title == "2 gates failed: guard, security; not verified: fastapi_auth"
    got = [(a.path, a.line, a.level, a.title) for a in spec.annotations]
    assert got == [
        ("backend/tests/test_a.py", 3, "failure", "guard: x"),
        ("backend/src/main.py", 7, "failure", "security: B105"),
        ("backend/src/main.py", 1, "notice", "security"),
    ]
    assert "| `fastapi_auth` | ⚪ not verified |" in spec.summary
    assert "| `pytest` | ✅ passed |" in spec.summary
    assert MERGE_SIGNAL in spec.summary
    assert "no file at all" in spec.text
    assert spec.details_url == "https://example.invalid/run"


def test_paths_outside_the_repository_are_not_annotated(tmp_path: Path) -> None:
    assert repo_path(tmp_path, ".", "../elsewhere.py") is None
    assert repo_path(tmp_path, ".", "missing.py") == "missing.py"


def test_a_gate_that_ran_but_could_not_check_shows_not_verified_with_its_fix(tmp_path: Path) -> None:
    spec = check_run_spec(outcome="draft", gates=[PASSED, PARTLY], head_sha="b" * 40, repo=tmp_path)
    assert spec.conclusion == "failure"
    assert spec.title == "not verified: fastapi_auth"
    assert "| `fastapi_auth` | ⚪ not verified |" in spec.summary
    assert (
        "- **fastapi_auth** [not verified] `app/main.py:9` GET /admin/dump: authenticated by name only "
        "(fix: set `app`)"
    ) in spec.text.splitlines()
