"""A hostile session that makes its tests print a secret test-env granted: the model never sees it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

from bot import sandbox
from bot.agent.ledger import Ledger, price_for
from bot.agent.loop import Limits
from bot.agent.model import ModelResponse
from bot.agent.scenario_reader import parse_scenario
from bot.agent.scripted import ScriptedModel
from bot.agent.transcript import Transcript
from bot.gates import GateContext, GateResult
from bot.gates import pytest as pytest_gate
from bot.pipeline.rounds import Pipeline
from bot.redact import Redactor
from bot.sandbox.test_env import resolve_test_env
from bot.settings import Settings
from bot.speckit import api as specs
from tests.conftest import reachable_tempdir, run_git

PASSWORD = "pg-secret-5c1e9a77b2"
SPEC = "# Feature Specification: Leak\n\n### User Story 1 - Leak (Priority: P1)\n"
LEAKY_TEST = (
    "import os\n\n\ndef test_prints_the_password():\n"
    "    print('password is', os.environ['DB_PASSWORD'])\n"
    "    assert os.environ['DB_PASSWORD'] == 'wrong', os.environ['DB_PASSWORD']\n"
)
CRITERION = {"id": "US1-AS1", "criterion": "leaks", "tests": ["tests/test_leak.py::test_prints_the_password"]}
SUBMIT = {
    "name": "submit_report",
    "input": {"summary": "Leaks.", "files": [], "acceptance_criteria": [CRITERION]},
}
SCENARIO = {
    "turns": [
        {"tool_calls": [{"name": "str_replace_based_edit_tool", "input": {
            "command": "create", "path": "tests/test_leak.py", "file_text": LEAKY_TEST}}]},
        {"tool_calls": [{"name": "run_tests", "input": {}}]},
        {"tool_calls": [{"name": "run_checks", "input": {}}]},
        {"tool_calls": [SUBMIT]},
        {"tool_calls": [SUBMIT]},  # after the repair round's gate feedback
    ]
}  # fmt: skip


class Recorder:
    """A model that records every request it is sent."""

    def __init__(self, inner: ScriptedModel) -> None:
        self.inner, self.name = inner, inner.name
        self.sent: list[str] = []

    def complete(
        self, system: str, tools: list[dict[str, Any]], messages: list[dict[str, Any]], max_tokens: int
    ) -> ModelResponse:
        self.sent.append(json.dumps(messages))
        return self.inner.complete(system, tools, messages, max_tokens)


def pytest_only(env: dict[str, str]) -> Callable[[GateContext], list[GateResult]]:
    def run(ctx: GateContext) -> list[GateResult]:
        return [pytest_gate.gate(ctx.repo, ctx.settings.test_command, python=ctx.python, env=ctx.env)]

    return run


def test_test_output_with_a_granted_secret_reaches_the_model_redacted() -> None:
    with reachable_tempdir() as parent:
        repo = parent / "repo"
        (repo / "specs/001-leak").mkdir(parents=True)
        (repo / "specs/001-leak/spec.md").write_text(SPEC)
        run_git(repo, "init", "-q")
        run_git(repo, "add", "-A")
        run_git(repo, "commit", "-q", "-m", "base")
        redactor = Redactor()
        env = resolve_test_env(("DB_PASSWORD",), {"DB_PASSWORD": PASSWORD}, redactor.add)
        assert isinstance(env["DB_PASSWORD"], sandbox.GrantedValue)
        model = Recorder(ScriptedModel(parse_scenario(json.dumps(SCENARIO), "leak.yaml")))
        pipeline = Pipeline(
            repo,
            dataclasses.replace(Settings(), max_repair_rounds=1),
            model,
            Ledger(price_for("claude-sonnet-4-6")),
            Transcript(parent / "t.jsonl", redactor),
            _Quiet(),
            gates=pytest_only(env),
            env=env,
        )
        outcome = pipeline.run(specs.read_feature(repo, "001-leak", None), "leak", "HEAD", Limits())
        sent = "\n".join(model.sent)
        # The test really ran with the secret and printed it: its result came back failing ...
        assert "FAILED tests/test_leak.py::test_prints_the_password" in sent
        assert "password is [REDACTED]" in sent
        # ... and neither the tool results, the gate summary nor the transcript carry it.
        assert PASSWORD not in sent
        assert PASSWORD not in (parent / "t.jsonl").read_text()
        assert outcome.conclusion == "draft"
        assert sent.count("round 1 of 1") >= 1  # the gate feedback went back too, redacted


class _Quiet:
    def phase(self, name: str) -> None:
        del name

    def usage(self, ledger: Ledger, turns: int) -> None:
        del ledger, turns
