"""The first request: every feature document, the standards and the constitution travel in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.agent import prompts
from bot.agent.client import AnthropicModel
from bot.agent.ledger import Ledger, price_for
from bot.agent.loop import Agent, Limits
from bot.agent.scenario_reader import parse_scenario
from bot.agent.tools import Toolbox, ToolResult
from bot.agent.transcript import Transcript
from bot.exceptions import FatalError, LimitReached
from bot.pipeline.prompt import feature_prompt, load_ready_feature
from bot.sandbox.paths import Workspace
from bot.settings import Settings
from tests.conftest import committed_example, run_git
from tests.fakes.anthropic_api import API_KEY, AnthropicEmulator

FEATURE = "002-task-due-dates"
DOCUMENTS = (
    f"specs/{FEATURE}/spec.md",
    f"specs/{FEATURE}/plan.md",
    f"specs/{FEATURE}/tasks.md",
    f"specs/{FEATURE}/contracts/openapi.yaml",
    f"specs/{FEATURE}/data-model.md",
    "backend/CLAUDE.md",
    ".specify/memory/constitution.md",
)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    repo = committed_example(tmp_path_factory.mktemp("prompt"))
    return repo, run_git(repo, "rev-parse", "HEAD").strip()


def first_request(repo: Path, base: str) -> str:
    settings = Settings(app_directory="backend")
    feature = load_ready_feature(repo, FEATURE, base, settings)
    return feature_prompt(repo, feature, settings, base=base)


def test_the_first_request_carries_every_document_in_full(example: tuple[Path, str]) -> None:
    repo, base = example
    task = first_request(repo, base)
    for path in DOCUMENTS:
        text = (repo / path).read_text(encoding="utf-8").strip()
        assert text in task, f"{path} is not in the first request"
    assert "(missing)" not in task
    assert "already in your context" in task
    # ~39,000 characters of documents, where the bug sent 1,411 in all
    assert len(task) > sum(len((repo / p).read_text(encoding="utf-8")) for p in DOCUMENTS)


def test_the_documents_come_from_the_base_commit_not_the_work_tree(example: tuple[Path, str]) -> None:
    repo, base = example
    spec = repo / f"specs/{FEATURE}/spec.md"
    original = spec.read_text(encoding="utf-8")
    spec.write_text(original + "\nAn uncommitted edit.\n", encoding="utf-8")
    try:
        task = first_request(repo, base)
    finally:
        spec.write_text(original, encoding="utf-8")
    assert original.strip() in task
    assert "An uncommitted edit." not in task


def test_a_template_constitution_now_stops_the_run(tmp_path: Path) -> None:
    """The constitution reaches readiness too: an unfilled template is refused before any spend."""
    repo = committed_example(tmp_path)
    (repo / ".specify/memory/constitution.md").write_text("# [PROJECT_NAME] Constitution\n", encoding="utf-8")
    run_git(repo, "commit", "-qam", "template constitution")
    base = run_git(repo, "rev-parse", "HEAD").strip()
    with pytest.raises(FatalError, match="unfilled template"):
        first_request(repo, base)


def test_the_first_request_sent_over_http_holds_them(example: tuple[Path, str], tmp_path: Path) -> None:
    """Through the real client and the emulator: the first user message is the whole task."""
    repo, base = example
    task = first_request(repo, base)
    scenario = parse_scenario("turns:\n  - {text: 'Reading the plan first.'}\n", "one.yaml")
    with AnthropicEmulator(scenario) as emu:
        agent = Agent(
            AnthropicModel(model="claude-sonnet-5-5", api_key=API_KEY, base_url=emu.url),
            Toolbox(Workspace(repo), lambda ids: ToolResult("ran"), lambda: ToolResult("ok")),
            Ledger(price_for("claude-sonnet-5-5")),
            Limits(max_turns=1),
            Transcript(tmp_path / "t.jsonl"),
            prompts.render("system.md"),
        )
        with pytest.raises(LimitReached):
            agent.run(task)
        sent = emu.message_requests[0].body["messages"][0]["content"][0]["text"]
    for path in DOCUMENTS:
        assert (repo / path).read_text(encoding="utf-8").strip() in sent, path
