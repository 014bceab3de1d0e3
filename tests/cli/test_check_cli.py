"""`specship check` on the taskboard example: every gate passes at 001, a mutation fails, four formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import committed_example, reachable_tempdir, run_git

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/taskboard"
GATES = ["pytest", "security", "fastapi_auth", "contracts", "guard"]


@pytest.fixture(scope="module")
def example() -> Iterator[Path]:
    """The example at 001, committed, in a directory the sandbox user can reach."""
    with reachable_tempdir() as parent:
        yield committed_example(parent, "001")


def check(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", "--repo", str(repo), *args],
        env={**base, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_every_gate_passes_on_the_example_at_001(example: Path) -> None:
    done = check(example, "--base", "HEAD", "--feature", "001-user-tasks", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["passed"] is True
    assert [g["name"] for g in report["gates"]] == GATES
    assert all(g["passed"] and g["ran"] for g in report["gates"])


@pytest.mark.slow
def test_a_removed_auth_dependency_fails_with_file_and_line_in_every_format(example: Path) -> None:
    api = example / "backend/src/api/tasks.py"
    original = api.read_text()
    try:
        mutated = original.replace("user_id: CurrentUserId,", "", 1)
        assert mutated != original
        mutated = mutated.replace(
            "task_service.get_task(session, user_id", "task_service.get_task(session, 'x'", 1
        )
        api.write_text(mutated)
        done = check(example, "--base", "HEAD", "--feature", "001-user-tasks", "--format", "json")
        assert done.returncode == 1
        report = json.loads(done.stdout)
        auth = next(g for g in report["gates"] if g["name"] == "fastapi_auth")
        assert auth["passed"] is False
        errors = [f for f in auth["findings"] if f["severity"] == "error"]
        assert errors
        assert all(f["file"] == "backend/src/api/tasks.py" and f["line"] for f in errors)

        sarif = json.loads(
            check(example, "--base", "HEAD", "--feature", "001-user-tasks", "--format", "sarif").stdout
        )
        assert sarif["version"] == "2.1.0"
        results = sarif["runs"][0]["results"]
        located = [r for r in results if r["ruleId"].startswith("fastapi_auth")]
        assert located
        assert (
            located[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "backend/src/api/tasks.py"
        )
        assert located[0]["level"] == "error"

        github = check(
            example,
            "--base",
            "HEAD",
            "--feature",
            "001-user-tasks",
            "--format",
            "github",
            GITHUB_ACTIONS="true",
        )
        assert github.returncode == 1
        assert "::error file=backend/src/api/tasks.py,line=" in github.stdout
        # the report quotes test output: it is relayed with workflow commands switched off
        lines = github.stdout.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
        end = lines.index(f"::{lines[start].removeprefix('::stop-commands::')}::")
        assert any(line.startswith("FAIL  fastapi_auth") for line in lines[start + 1 : end])
        assert not any(line.startswith(("PASS", "FAIL")) for line in lines[:start] + lines[end + 1 :])

        text = check(example, "--base", "HEAD", "--feature", "001-user-tasks")
        assert "FAIL  fastapi_auth" in text.stdout
        assert "PASS  contracts" in text.stdout
    finally:
        api.write_text(original)


def test_check_outside_a_repository_is_one_clear_error(tmp_path: Path) -> None:
    done = check(tmp_path)
    assert done.returncode == 1
    assert "is not a git repository" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_with_an_unknown_base_names_it(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    run_git(repo, "init", "-q")
    (repo / "a.py").write_text("x = 1\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "a")
    done = check(repo, "--base", "no-such-rev")
    assert done.returncode == 1
    assert "--base no-such-rev is not a commit" in done.stderr
