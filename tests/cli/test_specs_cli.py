"""`specship specs`: text and JSON reports, exit codes, --since, --rev, and the no-specs error."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import actions
from bot.cli.specs import main
from bot.exceptions import FatalError
from tests.conftest import FIXTURES, ROOT, run_git

MARKER = "[NEEDS CLARIFICATION: should overdue use the user's local time zone?]"


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    """Capture what the command prints through the Actions runtime (outside Actions)."""
    buffer = io.StringIO()
    actions.use(actions.Runtime(env={}, out=buffer, err=io.StringIO()))
    yield buffer
    actions.use(actions.Runtime())


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURES / "speckit", tmp_path / "repo"))


def run(repo: Path, *, as_json: bool = True, since: str | None = None, rev: str | None = None) -> int:
    return main(argparse.Namespace(repo=str(repo), json=as_json, since=since, rev=rev))


def not_ready(repo: Path) -> None:
    spec = repo / "specs/002-task-due-dates/spec.md"
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("current UTC date.", f"current UTC date {MARKER}."), encoding="utf-8")


def test_json_report_of_the_examples(repo: Path, out: io.StringIO) -> None:
    assert run(repo) == 0
    report = json.loads(out.getvalue())
    assert report["delta"] is None
    one, two = report["features"]
    assert one == {
        "name": "001-user-tasks",
        "path": "specs/001-user-tasks",
        "branch": "specship/001-user-tasks",
        "ready": True,
        "problems": [],
        "warnings": [],
        "tasks": {"total": 28, "done": 28, "open": 0},
        "stories": 3,
        "requirements": [f"FR-{i:03}" for i in range(1, 11)] + [f"SC-{i:03}" for i in range(1, 5)],
        "contracts": ["specs/001-user-tasks/contracts/openapi.yaml"],
    }
    assert (two["name"], two["tasks"], two["stories"]) == (
        "002-task-due-dates",
        {"total": 21, "done": 0, "open": 21},
        3,
    )


def test_not_ready_feature_exits_1_with_file_and_line(repo: Path, out: io.StringIO) -> None:
    not_ready(repo)
    assert run(repo) == 1
    two = json.loads(out.getvalue())["features"][1]
    assert two["ready"] is False
    (problem,) = two["problems"]
    assert (problem["file"], problem["line"], problem["code"]) == (
        "specs/002-task-due-dates/spec.md",
        98,
        "needs-clarification",
    )
    assert problem["text"].startswith(f"specs/002-task-due-dates/spec.md:98: unresolved {MARKER} — ")


def test_text_report_has_one_block_per_feature(repo: Path, out: io.StringIO) -> None:
    not_ready(repo)
    assert run(repo, as_json=False) == 1
    blocks = out.getvalue().strip().split("\n\n")
    assert blocks[0].splitlines()[:3] == [
        "specs/001-user-tasks: ready",
        "  tasks: 28 total, 28 done, 0 open",
        "  stories: 3, requirements: 10 FR, 4 SC",
    ]
    assert blocks[1].splitlines()[0] == "specs/002-task-due-dates: NOT READY"
    assert "  problem: specs/002-task-due-dates/spec.md:98: unresolved [NEEDS" in blocks[1]


def test_since_adds_the_delta(git_repo: Callable[..., Path], out: io.StringIO) -> None:
    repo = git_repo()
    shutil.copytree(FIXTURES / "speckit/.specify", repo / ".specify")
    shutil.copytree(FIXTURES / "speckit/specs/001-user-tasks", repo / "specs/001-user-tasks")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "001")
    shutil.copytree(FIXTURES / "speckit/specs/002-task-due-dates", repo / "specs/002-task-due-dates")
    assert run(repo, since="HEAD") == 0
    change: dict[str, Any] = json.loads(out.getvalue())["delta"]
    assert (change["head"], change["is_work"]) == (None, True)
    (feature,) = change["features"]
    assert (feature["name"], feature["status"], feature["is_work"]) == ("002-task-due-dates", "added", True)
    assert len(feature["tasks"]) == 21
    assert feature["contracts"][0]["text"] == "added path /api/tasks: /api/tasks"
    out.truncate(0)
    out.seek(0)
    assert run(repo, as_json=False, rev="HEAD", since="HEAD") == 0
    assert out.getvalue().rstrip().endswith("  no feature changed")
    assert "specs/002-task-due-dates" not in out.getvalue()


def test_repo_without_specs_is_a_fatal_error(tmp_path: Path, out: io.StringIO) -> None:
    with pytest.raises(FatalError) as caught:
        run(tmp_path)
    assert "no spec kit features found under specs/" in caught.value.cause.lower()
    assert "/speckit.specify" in caught.value.fix


def test_unknown_rev_is_a_fatal_error(git_repo: Callable[..., Path], out: io.StringIO) -> None:
    repo = git_repo({"README.md": "x\n"})
    with pytest.raises(FatalError, match="does not exist"):
        run(repo, rev="nope")


def test_checklist_policy_comes_from_the_repository_config(repo: Path, out: io.StringIO) -> None:
    checklist = repo / "specs/001-user-tasks/checklists/requirements.md"
    checklist.write_text(checklist.read_text().replace("- [x] Scope", "- [ ] Scope"))
    assert run(repo) == 0
    (repo / ".github").mkdir()
    (repo / ".github/specship.yml").write_text("checklists: refuse\n")
    assert run(repo) == 1


def test_in_actions_problems_become_annotations(repo: Path) -> None:
    not_ready(repo)
    buffer = io.StringIO()
    actions.use(actions.Runtime(env={"GITHUB_ACTIONS": "true"}, out=buffer, err=io.StringIO()))
    try:
        assert run(repo, as_json=False) == 1
    finally:
        actions.use(actions.Runtime())
    assert "::error file=specs/002-task-due-dates/spec.md,line=98::unresolved [NEEDS" in buffer.getvalue()


def test_module_entry_point_exit_codes(repo: Path) -> None:
    command = [sys.executable, "-m", "bot", "specs", "--repo", str(repo), "--json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=60)
    assert (done.returncode, json.loads(done.stdout)["features"][1]["ready"]) == (0, True)
    not_ready(repo)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 1
