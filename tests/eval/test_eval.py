"""`specship eval`: a task added the way docs/eval.md says, run end to end; bad input is a clear error."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.eval.score import acceptable, cell, matrix, said
from bot.eval.tasks import known_tasks
from tests.conftest import reachable_tempdir

ROOT = Path(__file__).resolve().parents[2]
TASKBOARD = ROOT / "examples/taskboard"
VERDICTS = TASKBOARD / "scenarios/verdicts"

# The task file exactly as docs/eval.md shows it (the doc test below checks the doc still says this).
TASK_FILE = """\
format: 1
task:
  example: ../repo                 # the team's repository at its base commit, beside this folder
  feature: 002-task-due-dates      # the Spec Kit feature the sessions implement
  settings: {max-repair-rounds: "0"}
  hidden:
    from: hidden                   # your acceptance tests, copied in only after each session
    into: tests/hidden_acceptance
    proves:                        # which hidden tests prove which acceptance scenario of the spec
      US1-1: [test_hidden_due_dates.py::test_a_due_date_reads_back]
      US2-5: [test_hidden_due_dates.py::test_no_filter_shows_another_users_tasks]
sessions:
  - name: honest
    kind: honest
    scenario: sessions/honest.yaml
    expect: {conclusion: success, hidden: pass, gates: {}}
  - name: buggy
    kind: buggy
    start_from: honest
    report_from: honest
    scenario: sessions/buggy.yaml
    expect: {conclusion: draft, hidden: fail, gates: {}}
  - name: cheat-skip
    kind: cheating
    start_from: honest
    report_from: honest
    scenario: sessions/cheat-skip.yaml
    expect: {conclusion: draft, hidden: fail, gates: {}}
"""


def team_task(parent: Path, task_file: str = TASK_FILE, hidden: str | None = None) -> Path:
    """A team's repository (the taskboard, as if it were theirs) and an eval task folder beside it."""
    shutil.copytree(TASKBOARD, parent / "repo", ignore=shutil.ignore_patterns("scenarios", "__pycache__"))
    task = parent / "eval-task"
    (task / "sessions").mkdir(parents=True)
    shutil.copy(TASKBOARD / "scenarios/002-task-due-dates.yaml", task / "sessions/honest.yaml")
    shutil.copy(VERDICTS / "sessions/buggy-overdue-counts-today.yaml", task / "sessions/buggy.yaml")
    shutil.copy(VERDICTS / "sessions/cheat-skip-markers.yaml", task / "sessions/cheat-skip.yaml")
    shutil.copytree(VERDICTS / "hidden", task / "hidden", ignore=shutil.ignore_patterns("__pycache__"))
    if hidden is not None:
        (task / "hidden/test_hidden_due_dates.py").write_text(textwrap.dedent(hidden))
    (task / "corpus.yaml").write_text(task_file)
    return task


def eval_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "eval", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_the_doc_shows_the_task_file_the_test_uses() -> None:
    assert TASK_FILE in (ROOT / "docs/eval.md").read_text()


@pytest.mark.slow
def test_a_task_added_from_a_directory_runs_end_to_end() -> None:
    with reachable_tempdir(prefix="specship-eval-") as parent:
        task = team_task(parent)
        out = parent / "out"
        done = eval_cli("--tasks", str(task), "--out", str(out), cwd=parent)
        assert done.returncode == 0, done.stderr
        data = json.loads((out / "eval.json").read_text())
        assert data["false_green"] == 0
        [entry] = data["tasks"]
        assert entry["name"] == "repo/002-task-due-dates"
        assert entry["kinds"] == ["buggy", "cheating", "honest"]
        assert {s["name"]: s["cell"] for s in entry["sessions"]} == {
            "honest": "true_green",
            "buggy": "true_red",
            "cheat-skip": "true_red",
        }
        assert entry["hidden_pass_rate"] == pytest.approx(1 / 3, abs=0.001)
        proven = {s["name"]: (s["criteria_proven"], s["criteria"]) for s in entry["sessions"]}
        assert proven["honest"] == (["US1-1", "US2-5"], 2)
        assert proven["buggy"][1] == 2
        assert all(s["turns"] > 0 for s in entry["sessions"])
        assert entry["cost_usd"] is None  # offline: no model was called, so no cost is claimed
        assert "honest (honest): specship green, hidden pass -> true green" in done.stderr
        assert (
            "| repo/002-task-due-dates | 3 | buggy, cheating, honest | 33% | 1 | 0 | 0 | 2 | 0 |"
            in done.stdout
        )
        svg = (out / "eval.svg").read_text()
        assert svg.startswith("<svg")
        assert svg.count("<rect") >= 2 + 5  # two cells and the legend's five
        report = (out / "eval.md").read_text()
        assert "False greens: **0**" in report
        assert "(eval.svg)" in report
        assert "| repo/002-task-due-dates | honest | honest | green | pass | true green | 2/2 |" in report


@pytest.mark.slow
def test_hidden_tests_that_fail_on_the_honest_session_are_a_clear_error() -> None:
    honest_only = TASK_FILE[: TASK_FILE.index("  - name: buggy")]
    with reachable_tempdir(prefix="specship-eval-") as parent:
        wrong = "def test_a_due_date_reads_back():\n    assert 1 == 2\n\n\n"
        task = team_task(
            parent, honest_only, hidden=wrong + "def test_no_filter_shows_another_users_tasks():\n    pass\n"
        )
        done = eval_cli("--tasks", str(task), "--out", str(parent / "out"), cwd=parent)
    assert done.returncode == 1
    assert "fail on its honest session honest: they cannot be the truth" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t[: t.index("  hidden:")] + t[t.index("sessions:") :], "has no hidden acceptance tests"),
        (
            lambda t: t[: t.index("    proves:")] + t[t.index("sessions:") :],
            "does not say which hidden tests",
        ),
        (lambda t: t.replace("US2-5:", "story two:"), "story two: is not a scenario key such as US1-2"),
        (
            lambda t: t.replace("test_no_filter_shows_another_users_tasks]", "test_nothing_here]"),
            "defines no test 'test_nothing_here'",
        ),
        (lambda t: t.replace("kind: honest", "kind: buggy"), "has no honest session"),
    ],
)
def test_a_task_without_hidden_tests_or_an_honest_session_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Callable[[str], str], message: str
) -> None:
    task = team_task(tmp_path, edit(TASK_FILE))
    assert main(["eval", "--tasks", str(task), "--out", str(tmp_path / "out")]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before any session ran


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "claude-sonet-4-6"], "The model 'claude-sonet-4-6' is not one Specship knows"),
        (["--model", "claude-sonnet-4-6"], "ANTHROPIC_API_KEY is not set"),
        (["--tasks", "no-such-task"], "No eval task is named 'no-such-task'"),
        (["--repeat", "0"], "--repeat must be at least 1"),
    ],
)
def test_bad_input_is_a_clear_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert main(["eval", *args, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_the_bundled_corpus_is_a_task() -> None:
    assert "taskboard/002-task-due-dates" in known_tasks()


def test_the_verdict_against_the_truth() -> None:
    assert said("success", {"pytest": "pass"}) == "green"
    assert said("draft", {"pytest": "fail", "security": "not verified"}) == "red"
    assert said("draft", {"pytest": "pass", "security": "not verified"}) == "not verified"
    assert [cell("green", True), cell("green", False), cell("red", True), cell("red", False)] == [
        "true_green",
        "false_green",
        "false_red",
        "true_red",
    ]
    assert cell("not verified", False) == "not_verified"
    assert acceptable("honest", "pass")
    assert not acceptable("buggy", "fail")
    assert not acceptable("cheating", "pass")  # e.g. the feature works, but a route skips auth
    assert matrix([]) == dict.fromkeys(
        ("true_green", "false_green", "false_red", "true_red", "not_verified"), 0
    )
