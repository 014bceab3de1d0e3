"""`specship local` end to end: the scripted 002 session on a fresh copy of the taskboard example."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.gates import pytest as pytest_gate
from tests.conftest import committed_example, reachable_tempdir, run_git

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/taskboard"
SCENARIO = EXAMPLE / "scenarios/002-task-due-dates.yaml"
BRANCH = "specship/002-task-due-dates"


@dataclass(frozen=True)
class LocalRun:
    repo: Path
    base: str
    done: subprocess.CompletedProcess[str]


def run_local(repo: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "ANTHROPIC_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "local", "--repo", str(repo), *extra],
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def local_run() -> Iterator[LocalRun]:
    # world-traversable, because the sandbox user runs the example's tests from inside it
    with reachable_tempdir() as parent:
        repo = committed_example(parent)
        base = run_git(repo, "rev-parse", "HEAD").strip()
        done = run_local(repo, "--feature", "002-task-due-dates", "--model", f"scripted:{SCENARIO}")
        yield LocalRun(repo, base, done)


@pytest.mark.slow
def test_local_run_succeeds_on_its_own_branch(local_run: LocalRun) -> None:
    assert local_run.done.returncode == 0, local_run.done.stderr[-3000:]
    assert "Conclusion:  success" in local_run.done.stderr
    assert run_git(local_run.repo, "branch", "--show-current").strip() == BRANCH
    log = run_git(local_run.repo, "log", "--format=%an|%s", f"{local_run.base}..HEAD").splitlines()
    assert log == [
        "specship[bot]|Specship: mark 21 tasks of 002-task-due-dates done",
        "specship[bot]|Specship: implement 002-task-due-dates",
    ]
    assert run_git(local_run.repo, "status", "--porcelain") == ""


@pytest.mark.slow
def test_branch_passes_the_example_suite_with_the_new_tests(local_run: LocalRun) -> None:
    result = pytest_gate.run_tests(local_run.repo, "python -m pytest -q", "backend", timeout=300)
    assert result.returncode == 0, result.output[-2000:]
    assert result.count("passed") > 158
    assert (
        "tests/integration/test_task_filters.py::test_us2_1_status_pending_shows_exactly_the_open_tasks"
        in (result.outcomes)
    )


@pytest.mark.slow
def test_only_checkbox_bytes_of_tasks_md_changed(local_run: LocalRun) -> None:
    diff = run_git(local_run.repo, "diff", "--numstat", "HEAD~1", "HEAD")
    assert diff.split() == ["21", "21", "specs/002-task-due-dates/tasks.md"]
    before = run_git(local_run.repo, "show", "HEAD~1:specs/002-task-due-dates/tasks.md")
    after = run_git(local_run.repo, "show", "HEAD:specs/002-task-due-dates/tasks.md")
    assert after.replace("- [X] T0", "- [ ] T0") == before
    spec_changes = run_git(local_run.repo, "diff", "--name-only", local_run.base, "HEAD~1", "--", "specs")
    assert spec_changes == "", "the agent's commit must not touch specs/"


@pytest.mark.slow
def test_outputs_are_written_and_redacted(local_run: LocalRun) -> None:
    out = local_run.repo / ".specship"
    assert (out / "pr.md").is_file()
    lines = (out / "transcript.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert records[0]["kind"] == "task"
    assert sum(1 for r in records if r["kind"] == "assistant") == 30
    usage = [r["usage"] for r in records if r["kind"] == "assistant"]
    total = sum(
        u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"] for u in usage
    )
    cached = sum(u["cache_read_input_tokens"] for u in usage)
    assert cached / total > 0.8
    assert ".specship" not in run_git(local_run.repo, "ls-files")


def test_local_refuses_a_dirty_work_tree(tmp_path: Path) -> None:
    repo = committed_example(tmp_path)
    (repo / "backend/src/main.py").write_text("# edited\n")
    done = run_local(repo, "--feature", "002-task-due-dates", "--model", f"scripted:{SCENARIO}")
    assert done.returncode == 1
    assert "uncommitted changes" in done.stderr
    assert "Traceback" not in done.stderr


def test_local_refuses_a_feature_that_is_not_ready(tmp_path: Path) -> None:
    repo = committed_example(tmp_path)
    spec = repo / "specs/002-task-due-dates/spec.md"
    text = spec.read_text().replace(
        "- **FR-001**", "- **FR-001** [NEEDS CLARIFICATION: should overdue use the user's time zone?]", 1
    )
    spec.write_text(text)
    run_git(repo, "commit", "-qam", "unclear")
    done = run_local(repo, "--feature", "002-task-due-dates", "--model", f"scripted:{SCENARIO}")
    assert done.returncode == 1
    assert "is not ready to implement" in done.stderr
    assert "specs/002-task-due-dates/spec.md:" in done.stderr
    assert run_git(repo, "branch", "--list", BRANCH) == ""


def test_local_without_a_model_says_how_to_get_one(tmp_path: Path) -> None:
    repo = committed_example(tmp_path)
    done = run_local(repo, "--feature", "002-task-due-dates")
    assert done.returncode == 1
    assert "ANTHROPIC_API_KEY is not set" in done.stderr
    assert "--model scripted:" in done.stderr


def test_stopped_run_keeps_its_work(tmp_path: Path, reachable_dir: Path) -> None:
    repo = committed_example(reachable_dir)
    scenario = tmp_path / "short.yaml"
    scenario.write_text(
        "turns:\n"
        "  - tool_calls:\n"
        "      - name: str_replace_based_edit_tool\n"
        '        input: {command: create, path: backend/src/core/clock.py, file_text: "X = 1\\n"}\n'
        "  - {text: 'I cannot continue', stop_reason: refusal}\n"
    )
    done = run_local(repo, "--feature", "002-task-due-dates", "--model", f"scripted:{scenario}")
    assert done.returncode == 1
    assert "Conclusion:  refused" in done.stderr
    assert "declined" in done.stderr
    assert run_git(repo, "show", "HEAD:backend/src/core/clock.py") == "X = 1\n"
    assert run_git(repo, "log", "-1", "--format=%s") == "Specship: implement 002-task-due-dates\n"


def test_local_can_run_again_from_its_own_branch(tmp_path: Path, reachable_dir: Path) -> None:
    repo = committed_example(reachable_dir)
    scenario = tmp_path / "note.yaml"
    scenario.write_text(
        "turns:\n"
        "  - tool_calls:\n"
        "      - name: str_replace_based_edit_tool\n"
        '        input: {command: create, path: backend/NOTES.md, file_text: "note\\n"}\n'
        "  - {text: 'I will stop here', stop_reason: refusal}\n"
    )
    first = run_local(repo, "--feature", "002-task-due-dates", "--model", f"scripted:{scenario}")
    assert "Conclusion:  refused" in first.stderr
    assert run_git(repo, "branch", "--show-current").strip() == BRANCH
    second = run_local(repo, "--feature", "002-task-due-dates", "--model", f"scripted:{scenario}")
    assert "Refusing to push" not in second.stderr
    assert "Conclusion:  refused" in second.stderr, second.stderr[-2000:]
    assert run_git(repo, "branch", "--show-current").strip() == BRANCH


def _section(body: str, heading: str) -> str:
    start = body.index(f"## {heading}\n")
    end = body.find("\n## ", start + 1)
    return body[start : end if end != -1 else len(body)]


@pytest.mark.slow
def test_pr_body_files_table_equals_git_numstat(local_run: LocalRun) -> None:
    from bot.report.validate import validate_body

    body = (local_run.repo / ".specship/pr.md").read_text()
    assert validate_body(body) == []
    rows = [line for line in _section(body, "Files Modified/Created").splitlines() if line.startswith("| ")][
        1:
    ]
    table = [
        (int(cells[3]), int(cells[4]), cells[2].strip("`"))
        for cells in ([c.strip() for c in row.split("|")] for row in rows)
        if cells[3].isdigit()
    ]
    numstat = [
        (int(added), int(deleted), path)
        for added, deleted, path in (
            line.split("\t")
            for line in run_git(local_run.repo, "diff", "--numstat", local_run.base, "HEAD").splitlines()
        )
    ]
    assert table == numstat


@pytest.mark.slow
def test_pr_body_acceptance_rows_agree_with_junit(local_run: LocalRun) -> None:
    body = (local_run.repo / ".specship/pr.md").read_text()
    criteria = _section(body, "Acceptance Criteria")
    outcomes = pytest_gate.run_tests(local_run.repo, "python -m pytest -q", "backend", timeout=300).outcomes
    rows = [line for line in criteria.splitlines() if line.startswith("- [")]
    assert len(rows) == 13
    assert all(row.startswith("- [x] **US") for row in rows)
    cited = [
        line.split("`")[1]
        for line in criteria.splitlines()
        if line.strip().startswith(("- ✅", "- ❌")) and "`" in line
    ]
    assert len(cited) >= 13
    assert all(outcomes.get(node) == "passed" or any(k.startswith(node) for k in outcomes) for node in cited)


@pytest.mark.slow
def test_pr_body_environment_section_matches_what_the_change_reads(local_run: LocalRun) -> None:
    body = (local_run.repo / ".specship/pr.md").read_text()
    diff = run_git(local_run.repo, "diff", local_run.base, "HEAD", "--", "backend/src")
    reads_env = any(token in diff for token in ("os.getenv(", "os.environ", "BaseSettings"))
    section = _section(body, "Environment Variables")
    assert reads_env is False
    assert "The change reads no environment variables." in section


@pytest.mark.slow
def test_pr_body_code_section_carries_the_checked_citations(local_run: LocalRun) -> None:
    """The session's `cite start:end:path` references reach the PR body, checked at the base."""
    body = (local_run.repo / ".specship/pr.md").read_text()
    code = body.split("## Code\n", 1)[1].split("## Security", 1)[0]
    assert "`backend/src/services/task_service.py#L30-L47`" in code
    assert "`backend/src/api/tasks.py#L47`" in code
    assert "cite " not in code
    assert "dropped the citation" not in body
