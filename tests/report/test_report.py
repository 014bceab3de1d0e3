"""The eight-part PR body: evidence from a real git change, the validator, size limits, marker, redaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot import git
from bot.gates import Finding, GateResult, Unverified
from bot.gates.acceptance import outcome_of
from bot.redact import Redactor
from bot.report.body import ReportInput, render_body
from bot.report.evidence import FilePatch, split_diff
from bot.report.markers import MARKER_PREFIX, marker_of, render_marker
from bot.report.scan import scan_python
from bot.report.validate import BODY_LIMIT, HEADINGS, validate_body
from tests.conftest import run_git

REPO_URL = "https://github.com/octo/taskboard"

BASE_FILES: dict[str, str | bytes] = {
    "backend/src/config.py": (
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n"
        "\n"
        "\n"
        "class Settings(BaseSettings):\n"
        '    model_config = SettingsConfigDict(env_prefix="TASKBOARD_")\n'
        '    database_url: str = "sqlite://"\n'
    ),
    "backend/src/api/tasks.py": (
        "from fastapi import APIRouter, Depends, HTTPException, status\n"
        "\n"
        "from src.auth import current_user\n"
        "\n"
        "router = APIRouter()\n"
        "\n"
        "\n"
        '@router.get("/tasks")\n'
        "def list_tasks(user=Depends(current_user)):\n"
        "    return []\n"
    ),
    "backend/src/old.py": "OLD = 1\n",
    "backend/.env.example": "TASKBOARD_DATABASE_URL=sqlite://\nDUE_SOON_DAYS=3\n",
    "docs/my notes.md": "notes\n",
}

TASKS_HEAD = (
    "import os\n"
    "\n"
    "from fastapi import APIRouter, Depends, HTTPException, status\n"
    "\n"
    "from src.auth import current_user\n"
    "\n"
    'DUE_SOON_DAYS = int(os.getenv("DUE_SOON_DAYS", "3"))\n'
    "router = APIRouter()\n"
    "\n"
    "\n"
    '@router.get("/tasks")\n'
    "def list_tasks(user=Depends(current_user)):\n"
    "    return []\n"
    "\n"
    "\n"
    "@router.get(\n"
    '    "/tasks/due-soon",\n'
    "    status_code=200,\n"
    '    responses={409: {"description": "conflict"}},\n'
    ")\n"
    "def due_soon(task_id: int, user=Depends(current_user)):\n"
    '    key = os.environ["NEW_KEY"]\n'
    "    if task_id < 0:\n"
    "        raise HTTPException(\n"
    "            status_code=status.HTTP_404_NOT_FOUND,\n"
    '            detail="Task not found",\n'
    "        )\n"
    "    if not key:\n"
    '        raise HTTPException(403, "Forbidden")\n'
    "    return []\n"
)

CONFIG_HEAD = BASE_FILES["backend/src/config.py"] + (  # type: ignore[operator]
    "    reminder_webhook: str\n"
    '    due_cap: int = Field(default=14, alias="DUE_CAP")\n'
    '    tz: str = Field("UTC")\n'
)

TEST_HEAD = (
    "from fastapi import status\n"
    "\n"
    "\n"
    "def test_due_soon(client):\n"
    "    r = client.get('/tasks/due-soon')\n"
    "    assert r.status_code == status.HTTP_418_IM_A_TEAPOT\n"
)

PASS = "tests/test_due.py::test_due_soon"
FAIL = "tests/test_due.py::test_overdue"
PARAM = "tests/test_due.py::test_window"

REPORT: dict[str, Any] = {
    "summary": "Adds a due-soon list of tasks for the current user (cite 8:10:backend/src/api/tasks.py).",
    "files": [
        {"path": "backend/src/api/tasks.py", "purpose": "The due-soon endpoint."},
        {"path": "backend/src/config.py", "purpose": "Reminder settings."},
        {"path": "backend/src/ghost.py", "purpose": "A file that is not in the diff."},
    ],
    "security_measures": ["Every route depends on current_user; see cite 1:3:backend/src/api/tasks.py"],
    "error_handling": [
        {"status": 404, "cases": "The task does not exist or belongs to someone else."},
        {"status": 422, "cases": "Invalid query parameters."},
    ],
    "acceptance_criteria": [
        {"id": "AC-1", "criterion": "Due-soon tasks are listed.", "tests": [PASS]},
        {"id": "AC-2", "criterion": "Overdue tasks are flagged.", "tests": [PASS, FAIL]},
        {"id": "AC-3", "criterion": "Nobody ran this.", "tests": ["tests/test_due.py::test_missing"]},
        {"id": "AC-4", "criterion": "No test at all.", "tests": []},
        {"id": "AC-5", "criterion": "The window is configurable.", "tests": [f"backend/{PARAM}"]},
    ],
    "environment_variables": [
        {"name": "DUE_SOON_DAYS", "purpose": "How many days ahead count as due soon."},
        {"name": "GHOST_VAR", "purpose": "Never read by the code."},
    ],
    "follow_ups": ["Add reminders by email (cite 1:999:backend/src/api/tasks.py)."],
}

OUTCOMES = {PASS: "passed", FAIL: "failed", f"{PARAM}[3]": "passed", f"{PARAM}[7]": "passed"}
ROUTES = [
    {
        "method": "GET",
        "path": "/tasks/due-soon",
        "auth": "current_user",
        "public": False,
        "owner_scoped": True,
        "file": "backend/src/api/tasks.py",
        "line": 21,
        "source": "import",
        "explanation": "current_user → HTTPBearer",
        "probe": "rejected: 401, 401, 401, 401",
    },
    {
        "method": "GET",
        "path": "/health",
        "auth": None,
        "public": True,
        "owner_scoped": None,
        "file": "backend/src/main.py",
        "line": 5,
        "source": "import",
        "probe": "public: not probed",
    },
]


@pytest.fixture
def change(git_repo: Callable[..., Path]) -> dict[str, Any]:
    """A real repository with a FastAPI-like change: the diff, numstat and statuses git reports."""
    repo = git_repo(BASE_FILES)
    base = run_git(repo, "rev-parse", "HEAD").strip()
    (repo / "backend/src/api/tasks.py").write_text(TASKS_HEAD, encoding="utf-8")
    (repo / "backend/src/config.py").write_text(CONFIG_HEAD, encoding="utf-8")
    (repo / "backend/tests").mkdir()
    (repo / "backend/tests/test_due.py").write_text(TEST_HEAD, encoding="utf-8")
    (repo / "backend/static").mkdir()
    (repo / "backend/static/logo.png").write_bytes(b"\x89PNG\x00\x01\x02" * 10)
    (repo / "docs/my notes.md").write_text("notes\nmore notes\n", encoding="utf-8")
    (repo / "backend/src/old.py").unlink()
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "due soon")
    head = run_git(repo, "rev-parse", "HEAD").strip()
    numstat_text = run_git(repo, "diff", "--numstat", "--no-renames", base, head)
    numstat = []
    for line in numstat_text.splitlines():
        added, deleted, path = line.split("\t", 2)
        numstat.append((None if added == "-" else int(added), None if deleted == "-" else int(deleted), path))
    return {
        "repo": repo,
        "base": base,
        "head": head,
        "diff": git.diff(repo, base, head).decode(),
        "numstat_text": numstat_text,
        "numstat": numstat,
        "statuses": {c.path: c.status for c in git.changed_paths(repo, base, head)},
    }


def make_input(change: dict[str, Any], **overrides: Any) -> ReportInput:
    values: dict[str, Any] = {
        "feature": "002-task-due-dates",
        "model_report": REPORT,
        "diff_text": change["diff"],
        "numstat": change["numstat"],
        "statuses": change["statuses"],
        "gates": [
            GateResult(
                "pytest",
                "3 passed, 1 failed",
                findings=(Finding(f"{FAIL} failed: assert 2 == 3"),),
                details={"outcomes": OUTCOMES},
            ),
            GateResult(
                "security",
                "1 finding",
                findings=(Finding("B105 hard-coded password", "backend/src/config.py", 7),),
            ),
            GateResult("fastapi_auth", "2 routes, all protected or public", details={"routes": ROUTES}),
        ],
        "env_example": "TASKBOARD_DATABASE_URL=sqlite://\nDUE_SOON_DAYS=3\n# DUE_CAP=14\n",
        "marker": {"feature": "002-task-due-dates", "base": change["base"], "head": change["head"]},
        "closes_issue": 12,
        "repo_url": REPO_URL,
        "base_sha": change["base"],
        "head_sha": change["head"],
        "repo": change["repo"],
    }
    values.update(overrides)
    return ReportInput(**values)


def section(body: str, heading: str) -> str:
    after = body.split(heading + "\n", 1)[1]
    return re.split(r"^## ", after, maxsplit=1, flags=re.MULTILINE)[0]


def table(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows[1:]]


# ---- the realistic change ---------------------------------------------------------------------------


def test_realistic_body_passes_the_validator(change: dict[str, Any]) -> None:
    body = render_body(make_input(change))
    assert validate_body(body) == []
    positions = [body.index(h + "\n") for h in HEADINGS]
    assert positions == sorted(positions)
    assert len(body) <= BODY_LIMIT


def test_files_table_equals_git_numstat(change: dict[str, Any]) -> None:
    body = render_body(make_input(change))
    rows = table(section(body, HEADINGS.files))
    got = [f"{r[2]}\t{r[3]}\t{r[1].strip('`')}" for r in rows]
    assert got == change["numstat_text"].splitlines()
    by_path = {r[1].strip("`"): r for r in rows}
    assert by_path["backend/src/api/tasks.py"][0] == "modified"
    assert by_path["backend/tests/test_due.py"][0] == "added"
    assert by_path["backend/src/old.py"][0] == "deleted"
    assert by_path["backend/static/logo.png"][2:4] == ["-", "-"]
    assert by_path["backend/src/api/tasks.py"][4] == "The due-soon endpoint."
    assert by_path["backend/tests/test_due.py"][4] == "—"  # not mentioned by the model, still listed
    assert "not in the diff: `backend/src/ghost.py`" in section(body, HEADINGS.files)


def test_acceptance_rows_agree_with_junit(change: dict[str, Any]) -> None:
    text = section(render_body(make_input(change)), HEADINGS.criteria)
    boxes = {ac: mark for mark, ac in re.findall(r"^- \[([ x])\] \*\*(AC-\d)\*\*", text, flags=re.MULTILINE)}
    assert boxes == {"AC-1": "x", "AC-2": " ", "AC-3": " ", "AC-4": " ", "AC-5": "x"}
    assert f"❌ `{FAIL}` — failed" in text
    assert "`tests/test_due.py::test_missing` — not run" in text
    assert "no test named" in text
    assert "2 of 5 criteria are proven" in text


def test_no_criterion_is_checked_when_the_tests_did_not_run(change: dict[str, Any]) -> None:
    body = render_body(make_input(change, gates=[]))
    assert "- [x]" not in body
    assert "The tests did not run" in body
    assert validate_body(body) == []


def test_outcome_of_matches_parameters_classes_and_path_prefixes() -> None:
    outcomes = {
        "tests/t.py::test_a[1]": "passed",
        "tests/t.py::test_a[2]": "failed",
        "tests/t.py::TestX::test_b": "passed",
        "tests/t.py::test_c": "skipped",
    }
    assert outcome_of("tests/t.py::test_a", outcomes) == "failed"
    assert outcome_of("tests/t.py::test_a[1]", outcomes) == "passed"
    assert outcome_of("backend/tests/t.py::TestX", outcomes) == "passed"
    assert outcome_of("t.py::TestX::test_b", outcomes) == "passed"
    assert outcome_of("tests/t.py::test_c", outcomes) == "skipped"
    assert outcome_of("tests/t.py::test_ab", outcomes) == "not run"


def test_environment_variables_are_found_and_compared(change: dict[str, Any]) -> None:
    text = section(render_body(make_input(change)), HEADINGS.env)
    rows = {r[0].strip("`"): r for r in table(text)}
    assert rows["DUE_SOON_DAYS"][1:5] == ["`backend/src/api/tasks.py:7`", "`3`", "no", "yes"]
    assert rows["DUE_SOON_DAYS"][5] == "How many days ahead count as due soon."
    assert rows["NEW_KEY"][2:5] == ["—", "yes", "**missing**"]
    assert rows["TASKBOARD_REMINDER_WEBHOOK"][2:5] == ["—", "yes", "**missing**"]
    assert rows["DUE_CAP"][2:5] == ["`14`", "no", "yes"]  # alias, documented as a comment
    assert rows["TASKBOARD_TZ"][2:5] == ["`UTC`", "no", "**missing**"]
    assert "TASKBOARD_DATABASE_URL" not in rows  # unchanged field
    assert rows["GHOST_VAR"][1] == "(not found in the diff)"
    assert "Add `NEW_KEY=` to `.env.example` (required, no default)." in text
    assert "Add `TASKBOARD_REMINDER_WEBHOOK=` to `.env.example`" in text
    assert "Add `DUE_SOON_DAYS=`" not in text


def test_environment_without_env_example_flags_every_variable(change: dict[str, Any]) -> None:
    text = section(render_body(make_input(change, env_example=None)), HEADINGS.env)
    assert "no file" in text
    assert "Add `DUE_SOON_DAYS=` to `.env.example` (optional, default `3`)." in text


def test_status_codes_come_from_the_added_code(change: dict[str, Any]) -> None:
    text = section(render_body(make_input(change)), HEADINGS.errors)
    rows = {r[0]: r for r in table(text)}
    assert rows["404 Not Found"][1] == "`backend/src/api/tasks.py:25` raises"
    assert rows["404 Not Found"][2] == "The task does not exist or belongs to someone else."
    assert rows["403 Forbidden"][1] == "`backend/src/api/tasks.py:29` raises"
    assert rows["403 Forbidden"][2] == "—"
    assert rows["200 OK"][1] == "`backend/src/api/tasks.py:18` route"
    assert rows["409 Conflict"][1] == "`backend/src/api/tasks.py:19` documented"
    assert rows["422 Unprocessable Entity"][1] == "(not found in the new code)"
    assert not any(key.startswith("418") for key in rows)  # assertions in tests are not behaviour


def test_security_section_has_routes_gates_and_measures(change: dict[str, Any]) -> None:
    text = section(render_body(make_input(change)), HEADINGS.security)
    assert "**Routes** (from the imported app)" in text
    rows = table(text)
    assert rows[0] == [
        "GET",
        "`/tasks/due-soon`",
        "`current_user → HTTPBearer`",
        "no",
        "rejected: 401, 401, 401, 401",
        "yes",
        "`backend/src/api/tasks.py:21` (changed)",
    ]
    assert rows[1][2:6] == ["**none**", "yes", "public: not probed", "unknown"]
    assert f"- ❌ **pytest** (fail) — 3 passed, 1 failed\n  - {FAIL} failed: assert 2 == 3\n" in text
    assert "  - `backend/src/config.py:7` B105 hard-coded password" in text
    assert "- ✅ **fastapi_auth** (pass)" in text
    assert "Every route depends on current_user" in text


def test_cites_become_permalinks_and_wrong_ones_are_dropped(change: dict[str, Any]) -> None:
    body = render_body(make_input(change))
    base = change["base"]
    link = f"[`backend/src/api/tasks.py#L8-L10`]({REPO_URL}/blob/{base}/backend/src/api/tasks.py#L8-L10)"
    assert link in section(body, HEADINGS.summary)
    assert f"({REPO_URL}/blob/{base}/backend/src/api/tasks.py#L1-L3)" in section(body, HEADINGS.security)
    assert "cite " not in body
    follow = section(body, HEADINGS.follow_ups)
    assert "1. Add reminders by email.\n" in follow
    assert "**Notes:** dropped the citation `1:999:backend/src/api/tasks.py`" in follow
    assert "has 10 lines at the base commit" in follow


def test_cite_of_a_file_missing_at_the_base_is_dropped(change: dict[str, Any]) -> None:
    report = {**REPORT, "summary": "New tests cite 1:2:backend/tests/test_due.py here."}
    body = render_body(make_input(change, model_report=report))
    assert "New tests here." in body
    assert "backend/tests/test_due.py does not exist at the base commit" in body


def test_closes_line_only_when_an_issue_triggered_the_run(change: dict[str, Any]) -> None:
    assert "\nCloses #12\n" in render_body(make_input(change))
    assert "Closes #" not in render_body(make_input(change, closes_issue=None))


def test_tokens_planted_by_the_model_are_redacted(change: dict[str, Any]) -> None:
    token = "ghp_" + "A1b2C3d4" * 5
    report = {**REPORT, "summary": f"Done; use {token} to deploy."}
    body = render_body(make_input(change, model_report=report, redactor=Redactor(["Pa55word-of-the-day"])))
    assert token not in body
    assert "[REDACTED]" in section(body, HEADINGS.summary)
    assert validate_body(body) == []


def test_registered_secrets_in_the_diff_are_redacted(change: dict[str, Any]) -> None:
    secret = "Pa55word-of-the-day"
    diff = change["diff"].replace("Task not found", secret)
    body = render_body(make_input(change, diff_text=diff, redactor=Redactor([secret])))
    assert secret not in body
    assert "[REDACTED]" in section(body, HEADINGS.code)


def test_model_text_cannot_inject_headings_markers_or_html(change: dict[str, Any]) -> None:
    planted = render_marker({"feature": "evil"})
    report = {**REPORT, "summary": f"## Summary {planted} <img src=x onerror=alert(1)> done"}
    body = render_body(make_input(change, model_report=report))
    assert validate_body(body) == []
    assert marker_of(body) == {
        "feature": "002-task-due-dates",
        "base": change["base"],
        "head": change["head"],
    }
    assert "<img" not in body
    assert body.count(MARKER_PREFIX) == 1


def test_run_that_stopped_before_reporting(change: dict[str, Any]) -> None:
    inp = make_input(
        change,
        model_report=None,
        unfinished=["the turn limit (40) was reached", "tests still fail", "auth gate failed", "extra"],
        spec_criteria=["Users see tasks due within 3 days."],
    )
    body = render_body(inp)
    assert validate_body(body) == []
    assert "The run stopped before the model wrote its report" in section(body, HEADINGS.summary)
    criteria = section(body, HEADINGS.criteria)
    assert "stopped before the model reported" in criteria
    assert "- [ ] Users see tasks due within 3 days." in criteria
    follow = section(body, HEADINGS.follow_ups)
    assert re.findall(r"^\d\. ", follow, flags=re.MULTILINE) == ["1. ", "2. ", "3. "]
    assert "1. Unfinished: the turn limit (40) was reached" in follow
    assert "1 more follow-up items left out" in follow
    assert table(section(body, HEADINGS.files))  # the diff is still described


def test_follow_ups_put_unfinished_work_first(change: dict[str, Any]) -> None:
    report = {**REPORT, "follow_ups": ["one", "two", "three"]}
    follow = section(
        render_body(make_input(change, model_report=report, unfinished=["budget"])), HEADINGS.follow_ups
    )
    assert re.findall(r"^\d\. (.*)$", follow, flags=re.MULTILINE) == ["Unfinished: budget", "one", "two"]


def test_follow_ups_section_says_none_when_empty(change: dict[str, Any]) -> None:
    report = {**REPORT, "follow_ups": [], "summary": "Plain."}
    assert "None." in section(render_body(make_input(change, model_report=report)), HEADINGS.follow_ups)


# ---- size limits ------------------------------------------------------------------------------------


def _file_diff(path: str, lines: list[str]) -> str:
    body = "".join(f"+{line}\n" for line in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


def _synthetic(files: dict[str, list[str]], **overrides: Any) -> ReportInput:
    values: dict[str, Any] = {
        "feature": "003-big",
        "model_report": {"summary": "Big.", "files": [], "acceptance_criteria": []},
        "diff_text": "".join(_file_diff(p, lines) for p, lines in files.items()),
        "numstat": [(len(lines), 0, p) for p, lines in files.items()],
        "statuses": dict.fromkeys(files, "A"),
        "gates": [],
        "env_example": None,
        "marker": {"feature": "003-big"},
        "compare_url": f"{REPO_URL}/compare/main...specship/003-big",
    }
    values.update(overrides)
    return ReportInput(**values)


def test_a_five_megabyte_diff_still_gives_a_valid_body() -> None:
    big = [f'{{"row": {i}, "payload": "{"x" * 40}"}}' for i in range(90_000)]
    files = {"data/big.json": big, "src/small.py": ["x = 1"], "src/medium.py": ["y = 2"] * 200}
    inp = _synthetic(files)
    assert len(inp.diff_text) > 5_000_000
    body = render_body(inp)
    assert len(body) <= BODY_LIMIT
    assert validate_body(body) == []
    code = section(body, HEADINGS.code)
    assert "<code>src/medium.py</code> (+200 −0)" in code
    assert "<code>src/small.py</code>" in code
    assert "`data/big.json` (" in code
    assert "see the full diff" in code
    assert code.index("src/medium.py") < code.index("src/small.py")  # largest first


def test_a_huge_generated_python_file_is_scanned_line_by_line() -> None:
    lines = [f"VALUE_{i} = {i}" for i in range(200_000)]
    lines[150_000] = 'FLAG = os.getenv("GEN_FLAG")'
    body = render_body(_synthetic({"src/generated.py": lines}))
    assert validate_body(body) == []
    assert "| `GEN_FLAG` | `src/generated.py:150001` | — | yes |" in body


def test_model_paths_and_names_cannot_break_lines() -> None:
    report = {
        "summary": "x",
        "files": [{"path": "ghost.py\n## Summary", "purpose": "p"}],
        "acceptance_criteria": [{"criterion": "c", "tests": ["t.py::a\n## Code"]}],
        "environment_variables": [{"name": "A\n## Summary", "purpose": "p"}],
    }
    body = render_body(_synthetic({"src/a.py": ["a = 1"]}, model_report=report))
    assert validate_body(body) == []


def test_code_budget_fills_most_of_the_limit() -> None:
    files = {f"src/m{i}.py": [f"v{i}_{j} = {j}" for j in range(400)] for i in range(20)}
    body = render_body(_synthetic(files))
    assert validate_body(body) == []
    assert BODY_LIMIT - 8_000 < len(body) <= BODY_LIMIT


def test_three_hundred_files_are_all_listed() -> None:
    files = {f"backend/src/module_{i:03}.py": [f"VALUE = {i}"] for i in range(300)}
    body = render_body(_synthetic(files))
    assert validate_body(body) == []
    rows = table(section(body, HEADINGS.files))
    assert [r[1].strip("`") for r in rows] == list(files)


def test_files_that_do_not_fit_are_counted_and_linked() -> None:
    files = {f"backend/{'deep/' * 40}module_{i:03}.py": ["x = 1"] for i in range(300)}
    body = render_body(_synthetic(files))
    assert validate_body(body) == []
    text = section(body, HEADINGS.files)
    listed = len(table(text))
    assert 0 < listed < 300
    assert f"{300 - listed} more files not listed — see the full diff: {REPO_URL}/compare/" in text


def test_diff_content_cannot_break_the_fence() -> None:
    files = {"README.md": ["````", "```", "## Summary", "~~~"], "src/a.py": ["a = 1"]}
    body = render_body(_synthetic(files))
    assert validate_body(body) == []
    assert "`````diff\n" in body


# ---- the validator ----------------------------------------------------------------------------------


def _valid_body() -> str:
    return render_body(_synthetic({"src/a.py": ["a = 1"]}))


def test_validator_accepts_a_rendered_body() -> None:
    assert validate_body(_valid_body()) == []


def test_validator_catches_a_missing_heading() -> None:
    body = _valid_body().replace(HEADINGS.errors + "\n", "Error Handling\n")
    assert validate_body(body) == ["missing heading '## Error Handling'"]


def test_validator_catches_wrong_order() -> None:
    body = _valid_body()
    security = HEADINGS.security + "\n" + section(body, HEADINGS.security)
    errors = HEADINGS.errors + "\n" + section(body, HEADINGS.errors)
    swapped = body.replace(security + errors, errors + security)
    assert swapped != body
    assert [p for p in validate_body(swapped) if p.startswith("headings out of order")]


def test_validator_catches_an_empty_section() -> None:
    body = _valid_body()
    emptied = body.replace(section(body, HEADINGS.follow_ups), "\n<!-- only a comment -->\n\n")
    assert validate_body(emptied) == ["section '## Follow-up Items' is empty"]


def test_validator_catches_a_body_over_the_limit() -> None:
    body = _valid_body() + "x" * BODY_LIMIT
    assert validate_body(body) == [f"the body has {len(body):,} characters; GitHub's limit is 65,536"]


def test_validator_catches_duplicates_unknown_headings_and_open_fences() -> None:
    body = _valid_body()
    assert "appears 2 times" in " ".join(validate_body(body + "\n## Summary\nagain\n"))
    assert validate_body(body.replace("## Security Measures\n", "## Extra\nx\n\n## Security Measures\n")) == [
        "unexpected heading '## Extra'"
    ]
    opened = body.replace("## Security Measures", "```\n## Security Measures")
    problems = validate_body(opened)
    assert "a code fence is never closed" in problems
    assert "missing heading '## Security Measures'" in problems


def test_validator_ignores_headings_inside_code_fences() -> None:
    body = _valid_body().replace("## Code\n", "## Code\n\n```\n## Summary\n```\n")
    assert validate_body(body) == []


# ---- the marker -------------------------------------------------------------------------------------


def test_marker_round_trips_and_cannot_close_the_comment() -> None:
    data = {"feature": "x-->y", "note": "<b>--!>", "n": -1, "spec": "a--b---c"}
    marker = render_marker(data)
    inner = marker[len(MARKER_PREFIX) : -len(" -->")]
    for forbidden in ("--", ">", "<"):
        assert forbidden not in inner
    assert marker_of(f"text\n{marker}\n") == data


@pytest.mark.parametrize(
    "body",
    [
        "no marker here",
        f"{MARKER_PREFIX}{{not json}} -->",
        f"{MARKER_PREFIX}[1, 2] -->",
        f"{MARKER_PREFIX}{{'single': 1}} -->",
        f"{MARKER_PREFIX}" + "[" * 100_000 + " -->",
    ],
)
def test_tampered_markers_read_as_none(body: str) -> None:
    assert marker_of(body) is None


def test_the_last_marker_wins_and_a_broken_one_fails_validation() -> None:
    body = _valid_body()
    assert marker_of(body) == {"feature": "003-big"}
    assert marker_of(body + "\n" + render_marker({"feature": "later"})) == {"feature": "later"}
    broken = body.replace('{"feature":"003-big"}', '{"feature":')
    assert validate_body(broken) == ["the hidden marker is not a readable JSON object"]


# ---- evidence without a checkout --------------------------------------------------------------------


def test_split_diff_reads_paths_with_spaces_and_counts(change: dict[str, Any]) -> None:
    patches = split_diff(change["diff"])
    assert set(patches) == {path for _, _, path in change["numstat"]}
    notes = patches["docs/my notes.md"]
    assert (notes.status, notes.added, notes.removed) == ("M", {2: "more notes"}, 0)
    assert patches["backend/src/old.py"].status == "D"


def test_scan_without_the_head_source_uses_the_added_lines() -> None:
    added = {
        10: "def f():",
        11: '    days = os.getenv("DUE_SOON_DAYS", "3")',
        12: '    key = os.environ["NEW_KEY"]',
        13: '    other = os.environ.get("OTHER", default=5)',
        14: "    raise HTTPException(status_code=status.HTTP_409_CONFLICT)",
        20: "        raise HTTPException(",  # a fragment that does not parse: the line-level fallback
        21: '            status.HTTP_410_GONE, detail=os.getenv("FRAG"),',
        30: '    os.environ["WRITTEN"] = "1"',
        40: "class Legacy(BaseSettings):",
        41: "    api_token: str = Field(..., env='LEGACY_TOKEN')",
        42: "    retries: int = 3",
        43: "    class Config:",
        44: "        env_prefix = 'OLD_'",
    }
    statuses, envs = scan_python(FilePatch("src/x.py", "", "M", added), None)
    found = {(e.name, e.line, e.default) for e in envs}
    assert found == {
        ("DUE_SOON_DAYS", 11, "3"),
        ("NEW_KEY", 12, None),
        ("OTHER", 13, "5"),
        ("FRAG", 21, None),
        ("LEGACY_TOKEN", 41, None),
        ("OLD_RETRIES", 42, "3"),
    }
    assert {(s.code, s.line) for s in statuses} >= {(409, 14), (410, 21)}


def test_two_user_criteria_and_not_verified_gates_show_in_the_security_section(
    change: dict[str, Any],
) -> None:
    criteria = [
        *REPORT["acceptance_criteria"],
        {
            "id": "US2-AS5",
            "criterion": "Given users A and B, user A never sees B's tasks.",
            "tests": [PASS, FAIL],
        },
    ]
    gap = Unverified("the app could not be imported (ImportError)", "set `app`", "backend/src/main.py", 3)
    gates = [*make_input(change).gates, GateResult("contracts", "not run", ran=False, unverified=(gap,))]
    body = render_body(
        make_input(change, model_report={**REPORT, "acceptance_criteria": criteria}, gates=gates)
    )
    text = section(body, HEADINGS.security)
    assert "**Two-user tests**" in text
    assert "- **US2-AS5** Given users A and B, user A never sees B's tasks. — 1 of 2 test(s) passing" in text
    assert "- ⚠️ **contracts** (**not verified**) — not run" in text
    assert (
        "  - ⚠️ not verified: `backend/src/main.py:3` the app could not be imported (ImportError) "
        "— fix: set `app`" in text
    )
    assert "gates failing: pytest, security; not verified: contracts" in section(body, HEADINGS.summary)
