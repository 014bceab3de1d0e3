"""Shared for the agent tests: an Agent over the real anthropic client against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.agent import prompts
from bot.agent.client import AnthropicModel
from bot.agent.ledger import Ledger, price_for
from bot.agent.loop import Agent, Limits
from bot.agent.model import Model
from bot.agent.tools import Toolbox, ToolResult
from bot.agent.transcript import Transcript
from bot.sandbox.paths import Workspace
from tests.fakes.anthropic_api import API_KEY, AnthropicEmulator

SUBMIT: dict[str, Any] = {
    "name": "submit_report",
    "input": {
        "summary": "Done.",
        "files": [{"path": "a.py", "purpose": "p"}],
        "acceptance_criteria": [{"criterion": "c", "tests": ["tests/test_a.py::test_a"]}],
    },
}


def http_model(emu: AnthropicEmulator, model: str = "claude-sonnet-5-5", **options: Any) -> AnthropicModel:
    return AnthropicModel(model=model, api_key=API_KEY, base_url=emu.url, sleep=lambda s: None, **options)


def http_agent(
    model: Model, workspace: Workspace, tmp_path: Path, limits: Limits | None = None, price_model: str = ""
) -> Agent:
    tools = Toolbox(
        workspace,
        run_tests=lambda ids: ToolResult(f"ran {list(ids)}: 1 passed"),
        run_checks=lambda: ToolResult("all gates passed"),
    )
    return Agent(
        model,
        tools,
        Ledger(price_for(price_model or model.name, family=model.family)),
        limits or Limits(),
        Transcript(tmp_path / "transcript.jsonl"),
        prompts.render("system.md"),
    )


def assistant_messages(body: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return [m["content"] for m in body["messages"] if m["role"] == "assistant"]
