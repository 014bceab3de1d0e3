"""What the model gets from a test run: a passing run as counts, the full log in the transcript;
`run_tests {}` then `run_checks` on the same tree runs the suite once."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from bot.agent.ledger import Ledger, price_for
from bot.agent.loop import Limits
from bot.agent.model import ModelResponse
from bot.agent.scenario_reader import parse_scenario
from bot.agent.scripted import ScriptedModel
from bot.agent.transcript import Transcript
from bot.gates import GateContext, GateResult
from bot.gates.run import run_all
from bot.pipeline.rounds import Pipeline
from bot.settings import Settings
from bot.speckit import api as specs
from tests.conftest import reachable_tempdir, run_git

SPEC = "# Feature Specification: Noisy\n\n### User Story 1 - Noisy (Priority: P1)\n"
NOISY = "def test_noisy():\n    print('chatter ' * 50)\n\n\ndef test_quiet():\n    pass\n"
COUNTING = """
import os


def pytest_sessionstart(session):
    open(os.environ["RUNS_LOG"], "a").write("run\\n")
"""
CRITERION = {"id": "US1-AS1", "criterion": "noisy", "tests": ["tests/test_noisy.py::test_noisy"]}
SUBMIT = {
    "name": "submit_report",
    "input": {"summary": "Done.", "files": [], "acceptance_criteria": [CRITERION]},
}
SCENARIO = {
    "turns": [
        {"tool_calls": [{"name": "run_tests", "input": {}}]},
        {"tool_calls": [{"name": "run_checks", "input": {}}]},
        {"tool_calls": [SUBMIT]},
    ]
}


class Recorder:
    def __init__(self, inner: ScriptedModel) -> None:
        self.inner, self.name = inner, inner.name
        self.sent: list[list[dict[str, Any]]] = []

    def complete(
        self, system: str, tools: list[dict[str, Any]], messages: list[dict[str, Any]], max_tokens: int
    ) -> ModelResponse:
        self.sent.append(copy.deepcopy(messages))
        return self.inner.complete(system, tools, messages, max_tokens)


class _Quiet:
    def phase(self, name: str) -> None:
        del name

    def usage(self, ledger: Ledger, turns: int) -> None:
        del ledger, turns


def pytest_gate_only(ctx: GateContext) -> list[GateResult]:
    return run_all(ctx, only=("pytest",))


def tool_result(messages: list[dict[str, Any]]) -> str:
    block = messages[-1]["content"][0]
    return str(block["content"] if isinstance(block["content"], str) else block["content"][0]["text"])


def run_pipeline(test_file: str) -> tuple[Recorder, Path, int, Any]:
    with reachable_tempdir() as parent:
        repo = parent / "repo"
        (repo / "specs/001-noisy").mkdir(parents=True)
        (repo / "specs/001-noisy/spec.md").write_text(SPEC)
        (repo / "tests").mkdir()
        (repo / "tests/test_noisy.py").write_text(test_file)
        (repo / "tests/conftest.py").write_text(COUNTING)
        run_git(repo, "init", "-q")
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-q", "-m", "base")
        logs = parent / "logs"
        logs.mkdir()
        logs.chmod(0o777)
        env = {"RUNS_LOG": str(logs / "runs.log")}
        model = Recorder(ScriptedModel(parse_scenario(json.dumps(SCENARIO), "noisy.yaml")))
        transcript = parent / "t.jsonl"
        pipeline = Pipeline(
            repo,
            Settings(),
            model,
            Ledger(price_for("claude-sonnet-4-6")),
            Transcript(transcript, None),
            _Quiet(),
            gates=pytest_gate_only,
            env=env,
        )
        outcome = pipeline.run(specs.read_feature(repo, "001-noisy", None), "noisy", "HEAD", Limits())
        runs = len((logs / "runs.log").read_text().splitlines())
        saved = parent.parent / f"{parent.name}.jsonl"
        saved.write_text(transcript.read_text())
        return model, saved, runs, outcome


def test_a_passing_run_reaches_the_model_as_counts_and_the_log_stays_in_the_transcript() -> None:
    model, transcript, runs, outcome = run_pipeline(NOISY)
    try:
        after_tests = tool_result(model.sent[1])
        assert (
            after_tests
            == "exit 0: 2 passed, 0 failed (all passed; the console output is in the run's transcript)"
        )
        records = [json.loads(line) for line in transcript.read_text().splitlines()]
        logs = [r for r in records if r["kind"] == "test_output"]
        assert len(logs) == 1
        assert "2 passed" in logs[0]["output"]
        # run_checks and the final judgement: the same tree, so the suite ran once in all
        assert runs == 1
        assert "pytest: passed" in tool_result(model.sent[2])
        assert outcome.conclusion == "success", outcome.unfinished
    finally:
        transcript.unlink()


def test_a_failing_run_still_shows_the_failure_and_its_output() -> None:
    model, transcript, runs, _ = run_pipeline(
        NOISY + "\n\ndef test_bad():\n    assert 'chatter' == 'quiet'\n"
    )
    try:
        after_tests = tool_result(model.sent[1])
        assert after_tests.startswith("exit 1: 2 passed, 1 failed\nFAILED tests/test_noisy.py::test_bad")
        assert "assert 'chatter' == 'quiet'" in after_tests
        assert runs == 2  # the work tree once, the base once (to tell pre-existing failures apart)
    finally:
        transcript.unlink()
