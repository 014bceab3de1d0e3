"""`specship specs --json` on the taskboard example: 001 done and ready, 002 ready with 21 open tasks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/taskboard"


def specs_json(repo: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "specs", "--repo", str(repo), "--json"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in report["features"]}


def test_example_features_are_ready_with_the_right_task_counts() -> None:
    code, report = specs_json(EXAMPLE)
    assert code == 0
    features = by_name(report)
    assert sorted(features) == ["001-user-tasks", "002-task-due-dates"]
    assert features["001-user-tasks"]["ready"] is True
    assert features["001-user-tasks"]["tasks"] == {"total": 28, "done": 28, "open": 0}
    assert features["002-task-due-dates"]["ready"] is True
    assert features["002-task-due-dates"]["tasks"] == {"total": 21, "done": 0, "open": 21}
    assert features["002-task-due-dates"]["contracts"] == ["specs/002-task-due-dates/contracts/openapi.yaml"]


def test_a_clarification_marker_makes_002_not_ready_and_names_file_and_line(tmp_path: Path) -> None:
    repo = tmp_path / "taskboard"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("backend", "scenarios"))
    spec = repo / "specs/002-task-due-dates/spec.md"
    lines = spec.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("- **FR-007**"))
    lines[index] = (
        lines[index].rstrip("\n") + " [NEEDS CLARIFICATION: should overdue use the user's local time zone?]\n"
    )
    spec.write_text("".join(lines), encoding="utf-8")
    code, report = specs_json(repo)
    assert code == 1
    feature = by_name(report)["002-task-due-dates"]
    assert feature["ready"] is False
    problems = feature["problems"]
    assert [(p["file"], p["line"], p["code"]) for p in problems] == [
        ("specs/002-task-due-dates/spec.md", index + 1, "needs-clarification")
    ]
    assert problems[0]["text"].startswith(f"specs/002-task-due-dates/spec.md:{index + 1}: unresolved")
    assert by_name(report)["001-user-tasks"]["ready"] is True
