"""The run keeps its wall-time limit mid-call: three test runs in one turn cannot overrun it (finding 4).

On main, a 1-minute run with three run_tests calls in one turn took 233 s: each test run got a fixed
900 s, and the limit was only checked between model calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.agent.ledger import Ledger
from bot.agent.scenario_reader import parse_scenario
from bot.agent.scripted import ScriptedModel
from bot.git import Workdir
from bot.pipeline.session import MIN_SECONDS, FeatureRun
from bot.redact import Redactor
from bot.settings import Settings
from bot.speckit import api as specs
from tests.conftest import reachable_tempdir, run_git

SPEC = """# Feature Specification: Notes

### User Story 1 - Keep a note (Priority: P1)

**Acceptance Scenarios**:

1. **Given** a user, **When** they save a note, **Then** it is stored.
"""
SLOW_TEST = "import time\n\n\ndef test_slow():\n    time.sleep(45)\n"
RUN = {"name": "run_tests", "input": {"node_ids": ["tests/test_slow.py::test_slow"]}}
SESSION = {
    "turns": [
        {
            "tool_calls": [
                {
                    "name": "str_replace_based_edit_tool",
                    "input": {"command": "create", "path": "tests/test_slow.py", "file_text": SLOW_TEST},
                }
            ]
        },
        # three different selections: identical runs of one content would be answered from the first
        {"tool_calls": [RUN, {**RUN, "input": {"node_ids": ["tests/test_slow.py"]}}, {**RUN, "input": {}}]},
        {
            "tool_calls": [
                {
                    "name": "submit_report",
                    "input": {
                        "summary": "Adds a test.",
                        "files": [{"path": "tests/test_slow.py", "purpose": "a test"}],
                        "acceptance_criteria": [{"id": "US1-AS1", "criterion": "c", "tests": []}],
                    },
                }
            ]
        },
    ]
}


class Phases:
    def __init__(self) -> None:
        self.names: list[str] = []

    def phase(self, name: str) -> None:
        self.names.append(name)

    def usage(self, ledger: Ledger, turns: int) -> None:
        del ledger, turns


@pytest.fixture
def repo() -> Iterator[Path]:
    with reachable_tempdir() as parent:
        root = parent / "repo"
        (root / "specs" / "001-notes").mkdir(parents=True)
        (root / "specs" / "001-notes" / "spec.md").write_text(SPEC)
        (root / "tests").mkdir()
        (root / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
        run_git(root, "init", "-q")
        run_git(root, "add", "-A")
        run_git(root, "commit", "-q", "-m", "base")
        yield root


@pytest.mark.slow
def test_three_test_runs_in_one_turn_end_at_the_deadline_and_the_work_is_kept(repo: Path) -> None:
    base = run_git(repo, "rev-parse", "HEAD").strip()
    workdir = Workdir(repo, remote_url=str(repo))
    workdir.prepare_branch("specship/001-notes", base)
    model = ScriptedModel(parse_scenario(json.dumps(SESSION), "budget.yaml"))
    settings = Settings(max_repair_rounds=0, test_command="python -m pytest -q")
    started = time.monotonic()
    run = FeatureRun(
        workdir,
        settings,
        specs.read_feature(repo, "001-notes", None),
        base,
        model,
        Phases(),
        repo.parent / "transcript.jsonl",
        Redactor(),
        deadline=started + MIN_SECONDS,
    )
    outcome = run.run("Implement 001-notes.")
    elapsed = time.monotonic() - started
    # The budget, plus what ending takes on a busy machine (the gates find no time left and say
    # so, the guard reads the diff): far below the 3 x 45 s of test runs the model asked for.
    assert elapsed < MIN_SECONDS + 30, elapsed
    assert outcome.conclusion == "stopped"
    assert any("time limit reached" in item for item in outcome.unfinished), outcome.unfinished
    pytest_gate = next(g for g in outcome.gates if g.name == "pytest")
    assert not pytest_gate.passed
    transcript = (repo.parent / "transcript.jsonl").read_text()
    assert "the run's time budget" in transcript  # what the model was told about the cut runs
    run.commit(outcome, "Specship: implement 001-notes (stopped)")
    assert run_git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["tests/test_slow.py"]
