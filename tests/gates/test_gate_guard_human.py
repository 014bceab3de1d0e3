"""The guard on a human's change: agent-only path rules follow the setting; test rules stay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.gates import Author, GateContext, GateResult, guard
from bot.gates.diffs import load_diff
from bot.settings import Settings

TESTS = "def test_one():\n    assert 1 + 1 == 2\n\n\ndef test_two():\n    assert 2 * 2 == 4\n"
FILES = {
    "specs/001-x/spec.md": "# Feature\n\nThe spec.\n",
    ".github/specship.yml": "app-directory: backend\n",
    ".github/workflows/ci.yml": "on: push\n",
    ".gitignore": ".venv/\n",
    "backend/app.py": "x = 1\n",
    "backend/tests/test_app.py": TESTS,
    "backend/tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef value():\n    return 1\n",
}


def judge(repo: Path, author: Author, **settings: str) -> GateResult:
    return guard.gate(GateContext(repo, "HEAD", Settings(**settings), author=author))


def human_edits(repo: Path) -> None:
    """What a person does in an ordinary PR: edit the spec, a workflow, .gitignore, the config."""
    (repo / "specs/001-x/spec.md").write_text("# Feature\n\nThe spec, clarified.\n")
    (repo / ".github/workflows/ci.yml").write_text("on: [push, pull_request]\n")
    (repo / ".gitignore").write_text(".venv/\n.env\n")
    (repo / ".github/specship.yml").write_text("app-directory: backend\nmax-turns: 30\n")


def test_a_human_editing_specs_workflows_gitignore_and_config_passes_with_warnings(
    git_repo: Callable[..., Path],
) -> None:
    repo = git_repo(FILES)
    human_edits(repo)
    result = judge(repo, "human")
    assert result.verdict == "pass", result.summary
    warned = sorted(f.file or "" for f in result.findings)
    assert warned == [".github/specship.yml", ".github/workflows/ci.yml", ".gitignore", "specs/001-x/spec.md"]
    assert all(f.severity == "warning" and f.rule == "protected-path" for f in result.findings)
    assert all("by a human: allowed" in f.message for f in result.findings)
    assert "4 warning(s) to review" in result.summary


def test_the_same_change_by_the_agent_fails(git_repo: Callable[..., Path]) -> None:
    repo = git_repo(FILES)
    human_edits(repo)
    result = judge(repo, "agent", human_protected_paths="ignore")  # the setting is for humans only
    assert result.verdict == "fail"
    assert len(result.errors) == 4
    assert {f.rule for f in result.errors} == {"protected-path"}


def test_ignore_drops_and_refuse_keeps_the_path_rules_for_humans(git_repo: Callable[..., Path]) -> None:
    repo = git_repo(FILES)
    human_edits(repo)
    ignored = judge(repo, "human", human_protected_paths="ignore")
    assert (ignored.verdict, ignored.findings) == ("pass", ())
    refused = judge(repo, "human", human_protected_paths="refuse")
    assert refused.verdict == "fail"
    assert len(refused.errors) == 4


def test_rules_that_protect_tests_still_apply_to_humans(git_repo: Callable[..., Path]) -> None:
    repo = git_repo(FILES)
    human_edits(repo)
    tests = repo / "backend/tests/test_app.py"
    text = tests.read_text().replace("def test_two():\n    assert 2 * 2 == 4\n", "")
    text = text.replace("def test_one():", "@pytest.mark.skip\ndef test_one():")
    tests.write_text("import pytest\n\n\n" + text)
    (repo / "backend/tests/conftest.py").write_text(
        (repo / "backend/tests/conftest.py").read_text()
        + "\n\ndef pytest_runtest_makereport(item, call):\n    return None\n"
    )
    result = judge(repo, "human", human_protected_paths="ignore")
    assert result.verdict == "fail"
    assert {f.rule for f in result.errors} == {"deleted-test", "skip-added", "pytest-hook"}


def test_an_emptied_config_is_emptied_not_deleted(git_repo: Callable[..., Path]) -> None:
    repo = git_repo(FILES)
    (repo / ".github/specship.yml").write_text("")
    [diff] = load_diff(repo, "HEAD")
    assert (diff.status, diff.emptied) == ("M", True)
    [finding] = judge(repo, "agent").errors
    assert finding.message.startswith(".github/specship.yml emptied: ")
    [warning] = judge(repo, "human").findings
    assert warning.message.startswith(".github/specship.yml emptied by a human: allowed")
    (repo / ".github/specship.yml").unlink()
    [finding] = judge(repo, "agent").errors
    assert finding.message.startswith(".github/specship.yml deleted: ")


@pytest.mark.parametrize("author", ["agent", "human"])
def test_an_emptied_test_file_is_reported_as_emptied(git_repo: Callable[..., Path], author: Author) -> None:
    repo = git_repo(FILES)
    (repo / "backend/tests/conftest.py").write_text("")
    [finding] = judge(repo, author).errors
    assert (finding.rule, finding.message) == (
        "deleted-test-file",
        "test file backend/tests/conftest.py emptied",
    )


def test_a_file_that_was_empty_and_gets_content_is_changed_not_added(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({**FILES, "backend/pytest.ini": ""})
    (repo / "backend/pytest.ini").write_text(
        "[pytest]\naddopts = -p no:randomly --deselect tests/test_app.py\n"
    )
    [diff] = load_diff(repo, "HEAD")
    assert (diff.status, diff.emptied) == ("M", False)
    result = judge(repo, "human")
    assert [f.message for f in result.errors] == [
        "relaxed test configuration: addopts gains `-p no:randomly`",
        "relaxed test configuration: addopts gains `--deselect tests/test_app.py`",
    ]
