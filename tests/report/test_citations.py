"""`cite start:end:path`: asked for in the prompts and the submit_report schema, checked at the base."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.agent import prompts
from bot.agent.scenario_reader import load_scenario
from bot.agent.tool_schemas import SUBMIT_SCHEMA
from bot.agent.tools import Toolbox, ToolResult
from bot.exceptions import Submitted
from bot.report.body import ReportInput, render_body
from bot.report.citations import Citer
from bot.report.validate import HEADINGS
from bot.sandbox.paths import Workspace
from tests.conftest import committed_example, run_git

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_002 = ROOT / "examples/taskboard/scenarios/002-task-due-dates.yaml"
REPO_URL = "https://github.com/octo/taskboard"
CITE = re.compile(r"cite (\d+):(\d+):(\S+?)\)")


def scenario_report() -> dict[str, Any]:
    """The submit_report input of the bundled 002 session."""
    scenario = load_scenario(SCENARIO_002)
    calls = [c for turn in scenario.turns for c in turn.tool_calls if c.name == "submit_report"]
    assert len(calls) == 1
    return dict(calls[0].input)


def body_for(repo: Path, base: str, report: dict[str, Any]) -> str:
    return render_body(
        ReportInput(
            feature="002-task-due-dates",
            model_report=report,
            diff_text="",
            numstat=(),
            statuses={},
            gates=(),
            env_example=None,
            marker={"feature": "002-task-due-dates"},
            repo_url=REPO_URL,
            base_sha=base,
            head_sha=base,
            repo=repo,
        )
    )


def code_section(body: str) -> str:
    return body.split(HEADINGS.code + "\n", 1)[1].split(HEADINGS.security, 1)[0]


def test_the_prompts_and_the_schema_ask_for_citations() -> None:
    notes = SUBMIT_SCHEMA["properties"]["code_notes"]
    assert notes["type"] == "string"
    assert "cite start:end:path" in notes["description"]
    assert "cite start:end:path" in prompts.render("system.md")
    implement = (ROOT / "prompts/implement.md.j2").read_text(encoding="utf-8")
    assert "cite start:end:path" in implement


def test_submit_report_takes_code_notes(git_repo: Any) -> None:
    tools = Toolbox(
        Workspace(git_repo({"a.py": "x = 1\n"})), lambda ids: ToolResult(""), lambda: ToolResult("")
    )
    report = {"summary": "s", "files": [], "acceptance_criteria": [{"criterion": "c", "tests": []}]}
    with pytest.raises(Submitted) as done:
        tools.execute("submit_report", {**report, "code_notes": "Builds on cite 1:1:a.py."})
    assert done.value.report["code_notes"] == "Builds on cite 1:1:a.py."


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    repo = committed_example(tmp_path_factory.mktemp("cite"))
    return repo, run_git(repo, "rev-parse", "HEAD").strip()


def test_the_002_sessions_citations_are_real_lines_at_its_base(example: tuple[Path, str]) -> None:
    """Every citation the bundled session makes is checked against the base tree and kept."""
    repo, base = example
    report = scenario_report()
    cited = CITE.findall(report["code_notes"])
    assert len(cited) == 3
    code = code_section(body_for(repo, base, report))
    for start, end, path in cited:
        lines = (repo / path).read_text(encoding="utf-8").splitlines()
        assert int(end) <= len(lines)
        anchor = f"L{start}" if start == end else f"L{start}-L{end}"
        assert f"({REPO_URL}/blob/{base}/{path}#{anchor})" in code
    assert "cite " not in code
    assert "dropped the citation" not in body_for(repo, base, report)


def test_a_citation_past_the_end_of_the_base_file_is_dropped_with_a_note(example: tuple[Path, str]) -> None:
    repo, base = example
    report = {**scenario_report(), "code_notes": "Reuses the auth helper (cite 1:9999:backend/src/auth.py)."}
    body = body_for(repo, base, report)
    assert "Reuses the auth helper." in code_section(body)
    assert "dropped the citation `1:9999:backend/src/auth.py`" in body


def test_the_checker_reads_the_base_commit_not_the_work_tree(example: tuple[Path, str]) -> None:
    repo, base = example
    citer = Citer(lambda path: None if path != "new.py" else "a\n", None, base)
    assert citer.problem(1, 1, "new.py") is None
    work_tree_only = repo / "backend/src/brand_new.py"
    work_tree_only.write_text("x = 1\n", encoding="utf-8")
    try:
        body = body_for(
            repo, base, {**scenario_report(), "code_notes": "See cite 1:1:backend/src/brand_new.py."}
        )
    finally:
        work_tree_only.unlink()
    assert "backend/src/brand_new.py does not exist at the base commit" in body
