"""Cost: the budget checked before each call against its worst case; billed failures in the ledger."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.agent.catalogue import Rates
from bot.agent.ledger import Ledger, Price, Usage, configured_price, price_for
from bot.agent.loop import Limits
from bot.agent.model import CallFailed
from bot.agent.scenario import Fault
from bot.agent.scenario_reader import parse_scenario
from bot.exceptions import FatalError, LimitReached, Submitted
from bot.sandbox.paths import Workspace
from tests.agent.helpers import SUBMIT, http_agent, http_model
from tests.fakes.anthropic_api import AnthropicEmulator

SEARCH = "{name: search, input: {pattern: 'x ='}}"


@pytest.fixture
def workspace(git_repo: Callable[..., Path]) -> Workspace:
    return Workspace(git_repo({"a.py": "x = 1\n"}))


def test_a_call_whose_worst_case_does_not_fit_is_not_made(
    anthropic_api: AnthropicEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    """$0.15 left and 16,000 output tokens at $10/MTok could cost $0.16 plus the prompt: no call."""
    anthropic_api.play(parse_scenario(f"turns:\n  - tool_calls: [{SEARCH}]\n", "one.yaml"))
    agent = http_agent(http_model(anthropic_api), workspace, tmp_path, Limits(max_cost_usd=0.15))
    with pytest.raises(LimitReached, match=r"the next call could cost up to \$0\.1[6-9]"):
        agent.run("implement")
    assert anthropic_api.message_requests == []
    assert agent.ledger.cost_usd == 0


def test_the_budget_holds_across_calls(
    anthropic_api: AnthropicEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    """Each turn writes 3,000 output tokens ($0.03): the run stops before the spend could pass $0.25."""
    turn = f"  - tool_calls: [{SEARCH}]\n    usage: {{output_tokens: 3000}}\n"
    anthropic_api.play(parse_scenario("turns:\n" + turn * 10, "many.yaml"))
    agent = http_agent(
        http_model(anthropic_api), workspace, tmp_path, Limits(max_cost_usd=0.25, max_tokens=3000)
    )
    with pytest.raises(LimitReached, match="the next call could cost up to"):
        agent.run("implement")
    spent = agent.ledger.cost_usd
    assert spent <= 0.25
    # it stopped because one more full answer ($0.03 of output alone) could pass the limit
    assert spent + agent.ledger.price.worst_case(0, 3000) > 0.25
    assert len(anthropic_api.message_requests) == len(agent.ledger.calls)


def test_a_stream_broken_after_it_started_is_billed_and_counted(
    anthropic_api: AnthropicEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    scenario = f"turns:\n  - tool_calls: [{json.dumps(SUBMIT)}]\n    fault: {{kind: drop_mid_stream}}\n"
    anthropic_api.play(parse_scenario(scenario, "drop.yaml"))
    agent = http_agent(http_model(anthropic_api), workspace, tmp_path, Limits(max_tokens=32_000))
    with pytest.raises(Submitted):
        agent.run("implement")
    failed, ok = agent.ledger.calls
    assert failed.failed
    assert not ok.failed
    assert failed.usage.total_input > 1000  # message_start reported the prompt before the cut
    assert failed.cost_usd > 0
    assert agent.ledger.cost_usd == pytest.approx(failed.cost_usd + ok.cost_usd)


def test_billed_attempts_count_even_when_the_call_fails_for_good(
    anthropic_api: AnthropicEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    anthropic_api.play(parse_scenario(f"turns:\n  - tool_calls: [{SEARCH}]\n", "one.yaml"))
    anthropic_api.inject(Fault(kind="sse_error", error_type="overloaded_error", times=3))
    agent = http_agent(http_model(anthropic_api), workspace, tmp_path, Limits(max_tokens=32_000))
    with pytest.raises(CallFailed, match="Anthropic overloaded") as failure:
        agent.run("implement")
    assert len(failure.value.billed) == 3
    assert [c.failed for c in agent.ledger.calls] == [True, True, True]
    assert agent.ledger.cost_usd > 0


def test_a_connection_refused_before_any_answer_is_not_billed(
    anthropic_api: AnthropicEmulator, workspace: Workspace, tmp_path: Path
) -> None:
    anthropic_api.play(parse_scenario(f"turns:\n  - tool_calls: [{json.dumps(SUBMIT)}]\n", "one.yaml"))
    anthropic_api.inject(Fault(kind="drop"))
    agent = http_agent(http_model(anthropic_api), workspace, tmp_path, Limits(max_tokens=32_000))
    with pytest.raises(Submitted):
        agent.run("implement")
    assert [c.failed for c in agent.ledger.calls] == [False]


def test_prices_come_from_the_catalogue_with_each_models_cache_rates() -> None:
    usage = Usage(input_tokens=1_000_000, cache_read_input_tokens=1_000_000, output_tokens=1_000_000)
    assert price_for("claude-opus-5-5").cost(usage) == pytest.approx(4 + 0.2 + 20)
    assert price_for("claude-fable-5-1").cost(usage) == pytest.approx(10 + 0.25 + 50)
    assert price_for("claude-sonnet-4-6").cost(Usage(cache_creation_input_tokens=1_000_000)) == 3.75
    assert configured_price(2.0, 8.0).cost(usage) == pytest.approx(2 + 0.2 + 8)
    assert price_for("claude-opus-5-5", 2.0, 8.0) == configured_price(2.0, 8.0)


def test_a_long_prompt_tier_prices_every_token_of_that_call() -> None:
    """Haiku 5.5: a prompt over 100,000 tokens costs the higher rates on all of its tokens."""
    price = price_for("claude-haiku-5-5")
    short = Usage(input_tokens=100_000, output_tokens=1000)
    long = Usage(input_tokens=100_001, output_tokens=1000)
    assert price.cost(short) == pytest.approx((100_000 * 0.1 + 1000 * 0.5) / 1e6)
    assert price.cost(long) == pytest.approx((100_001 * 0.5 + 1000 * 2.5) / 1e6)
    assert price.worst_case(200_000, 1000) == pytest.approx((200_000 * 0.625 + 1000 * 2.5) / 1e6)


def test_the_ledger_records_failed_calls_apart() -> None:
    ledger = Ledger(Price(Rates.standard(1, 5)))
    ledger.record(Usage(input_tokens=10), "req_1")
    ledger.record(Usage(input_tokens=20), failed=True)
    assert [c.request_id for c in ledger.failed_calls] == [""]
    assert ledger.usage.input_tokens == 30


def test_an_id_with_no_family_needs_configured_prices() -> None:
    with pytest.raises(FatalError, match="no price for the model 'my-finetune'"):
        price_for("my-finetune")
    assert price_for("my-finetune", 1.0, 2.0).output == 2.0
