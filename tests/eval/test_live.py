"""`specship eval --model`: the real agent (the real anthropic client over HTTP) at a task, scored live.

The Anthropic emulator (tests/fakes/) plays the taskboard's honest session as the model's answers,
so the live path runs end to end offline: the Models API check, the agent loop, the gates, the
hidden tests, and the ledger's cost and tokens from the usage the API reported.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.agent.scenario_reader import load_scenario
from tests.conftest import reachable_tempdir
from tests.fakes.anthropic_api import API_KEY, AnthropicEmulator

ROOT = Path(__file__).resolve().parents[2]
TASK = ROOT / "examples/taskboard/scenarios/verdicts/corpus.yaml"
HONEST = ROOT / "examples/taskboard/scenarios/002-task-due-dates.yaml"
KEY = API_KEY


@pytest.mark.slow
def test_a_live_eval_runs_the_real_agent_and_reports_its_cost(
    anthropic_api: AnthropicEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    anthropic_api.play(load_scenario(HONEST))
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_api.url)
    with reachable_tempdir(prefix="specship-live-") as parent:
        out = parent / "out"
        code = main(["eval", "--model", "claude-sonnet-5-5", "--tasks", str(TASK), "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 0, err[-3000:]
        data = json.loads((out / "eval.json").read_text())
        report = (out / "eval.md").read_text()
    assert anthropic_api.expectation_failures == []
    assert (data["mode"], data["model"], data["false_green"]) == ("live", "claude-sonnet-5-5", 0)
    [task] = data["tasks"]
    [session] = task["sessions"]  # only the live attempt: recorded sessions are not replayed
    assert (session["name"], session["kind"], session["cell"]) == ("live-1", "live", "true_green")
    assert session["criteria_proven"]
    assert len(session["criteria_proven"]) == session["criteria"]
    assert session["cost_usd"] > 0
    assert session["tokens"] > 0
    assert 0 < session["cache_read_share"] < 1  # the emulator's cache rules, not a figure we define
    assert task["cost_usd"] == pytest.approx(session["cost_usd"], abs=1e-4)
    assert KEY not in err
    assert KEY not in report
    assert "live-1 (claude-sonnet-5-5): specship green, hidden pass -> true green" in err


def test_a_live_eval_without_a_key_is_refused_before_any_session(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert main(["eval", "--model", "claude-sonnet-5-5", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "ANTHROPIC_API_KEY is not set" in err
    assert "without --model to replay the recorded sessions" in err
    assert not (tmp_path / "out").exists()
