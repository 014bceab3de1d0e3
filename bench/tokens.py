"""Tokens: the 002 demo through the Anthropic emulator over HTTP, per model: usage, cache share, cost.

The figures are the emulator's answers to the real `anthropic` client (tests/fakes/anthropic_api.py:
token counts, the 20-block cache lookback and each model's cache minimum), never a quantity the
harness computes itself. Prices are the catalogue's (bot/agent/catalogue.json).
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from pathlib import Path
from typing import Any

from common import ROOT, Figure, Section, clean_env

# Current catalogue models, plus one with a 4,096-token cache minimum to show where it bites.
MODELS = ("claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-4-5")
WIDE_MODELS = (MODELS[0],)
WIDE_CALLS = 10
# Two turns of the demo made one (a model may make all these calls at once): (first, last) index.
VARIANTS = {"mid-demo (turns 12-13 as one)": (11, 12), "at the start (turns 1-3 as one)": (0, 2)}
CACHE_TARGET = 0.90
SCENARIO = ROOT / "examples" / "taskboard" / "scenarios" / "002-task-due-dates.yaml"


def wide(scenario: Any, first: int, last: int) -> Any:
    """The demo with turns first..last made one turn of parallel tool calls, as a model may."""
    turns = list(scenario.turns)
    calls = tuple(call for turn in turns[first : last + 1] for call in turn.tool_calls)
    merged = dataclasses.replace(turns[first], tool_calls=calls)
    return dataclasses.replace(scenario, turns=(*turns[:first], merged, *turns[last + 1 :]))


def emulated_demo(model: str, scenario: Any, *extra: str) -> dict[str, Any]:
    """One demo with `model`, its requests answered by the emulator; the probe record plus checks."""
    from harness import demo_once

    from tests.fakes.anthropic_api import API_KEY, AnthropicEmulator

    with AnthropicEmulator() as emulator:
        emulator.play(scenario)
        env = clean_env(ANTHROPIC_API_KEY=API_KEY, ANTHROPIC_BASE_URL=emulator.url)
        record = demo_once(*extra, "--model", model, "--yes", env=env)
        record["requests"] = len(emulator.message_requests)
        record["expectation_failures"] = list(emulator.expectation_failures)
    return record


def prefix_tokens(model: str) -> int:
    """System prompt + tools as the emulator counts them (count_tokens, a one-word user turn)."""
    from bot.agent import prompts
    from bot.agent.tools import TOOL_DEFINITIONS
    from tests.fakes.anthropic_api import AnthropicEmulator

    with AnthropicEmulator() as emulator:
        answer = emulator.client().messages.count_tokens(
            model=model,
            system=prompts.render("system.md"),
            tools=TOOL_DEFINITIONS,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "x"}],
        )
    return int(answer.input_tokens)


def after_wide_turn(turns: list[dict[str, Any]]) -> tuple[float, float]:
    """For the request carrying the results of the first turn of ≥ WIDE_CALLS calls: its cache-read
    share, and how much of what the request before it sent it read back from the cache."""
    for before, after in itertools.pairwise(turns):
        if before["tool_calls"] >= WIDE_CALLS:
            u, p = after["usage"], before["usage"]
            total = u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
            sent = p["input_tokens"] + p["cache_read_input_tokens"] + p["cache_creation_input_tokens"]
            return u["cache_read_input_tokens"] / total, min(u["cache_read_input_tokens"] / sent, 1.0)
    raise RuntimeError(f"no turn of {WIDE_CALLS}+ tool calls")


def main() -> Section:
    from bot.agent.ledger import Usage, price_for
    from bot.agent.scenario_reader import load_scenario
    from tests.fakes.anthropic_models import MODELS as CARDS

    scenario = load_scenario(SCENARIO)
    section = Section(
        "Tokens",
        f"the 002 demo through the Anthropic emulator over HTTP, once per model ({', '.join(MODELS)}), "
        f"and two variants with a turn of ≥ {WIDE_CALLS} parallel calls for {', '.join(WIDE_MODELS)}",
    )
    rows, prefix_rows, figures = [], [], []
    totals: dict[str, Usage] = {}
    for model in MODELS:
        record = emulated_demo(model, scenario)
        if record["expectation_failures"]:
            raise RuntimeError(f"{model}: the scenario did not replay: {record['expectation_failures'][:3]}")
        total = Usage()
        for turn in record["turns"]:
            total = total + Usage(**{k: v for k, v in turn["usage"].items() if k != "cost_usd"})
        totals[model] = total
        price = price_for(model)
        share = total.cache_read_input_tokens / total.total_input
        cost = sum(
            price.cost(Usage(**{k: v for k, v in t["usage"].items() if k != "cost_usd"}))
            for t in record["turns"]
        )
        rows.append(
            [
                model,
                str(len(record["turns"])),
                f"{total.total_input:,}",
                f"{total.cache_read_input_tokens:,}",
                f"{total.cache_creation_input_tokens:,}",
                f"{total.input_tokens:,}",
                f"{total.output_tokens:,}",
                f"{share * 100:.1f} %",
                f"${cost:.2f}",
            ]
        )
        figures.append(Figure(f"demo cost with {model} (catalogue list price)", f"${cost:.2f}"))
        figures.append(Figure(f"demo: share of input read from the cache, {model}", f"{share * 100:.1f} %"))
        prefix = prefix_tokens(model)
        minimum = CARDS[model].cache_min
        prefix_rows.append(
            [
                model,
                f"{prefix:,}",
                f"{minimum:,}",
                "yes" if prefix >= minimum else "no: cached only together with the first user turn",
            ]
        )
    section.table(
        ["model", "turns", "input", "cache read", "cache write", "uncached", "output", "read share", "USD"],
        rows,
    )
    section.table(["model", "system + tools (tokens)", "cache minimum", "cacheable on its own"], prefix_rows)

    wide_rows: list[list[str]] = []
    shares: dict[tuple[str, str, bool], tuple[float, float]] = {}
    runs = [(v, m, False) for v in VARIANTS for m in WIDE_MODELS] + [(next(iter(VARIANTS)), MODELS[0], True)]
    for variant, model, before in runs:
        record = emulated_demo(
            model, wide(scenario, *VARIANTS[variant]), *(("--baseline",) if before else ())
        )
        share, kept = after_wide_turn(record["turns"])
        shares[(variant, model, before)] = (share, kept)
        calls = max(t["tool_calls"] for t in record["turns"])
        wide_rows.append(
            [
                variant,
                model + (" (before issue 17: last tool + newest user turn)" if before else ""),
                str(calls),
                f"{share * 100:.1f} %",
                f"{kept * 100:.1f} %",
            ]
        )
    section.table(
        [
            "variant",
            "model (breakpoints)",
            "largest turn (calls)",
            "read share of the request after it",
            "of the previous request's input, read back",
        ],
        wide_rows,
    )
    mid, start = VARIANTS
    worst_mid = min(v[0] for k, v in shares.items() if k[0] == mid and not k[2])
    worst_kept = min(v[1] for k, v in shares.items() if not k[2])
    section.figures += [
        Figure(
            f"cache-read share, demo, the request after a turn of ≥ {WIDE_CALLS} tool calls "
            f"({mid}, worst model)",
            f"{worst_mid * 100:.1f} % (before issue 17: {shares[(mid, MODELS[0], True)][0] * 100:.1f} %)",
            f"≥ {CACHE_TARGET * 100:.0f} %",
            worst_mid >= CACHE_TARGET,
        ),
        Figure(
            f"… the same, {start}",
            f"{min(v[0] for k, v in shares.items() if k[0] == start) * 100:.1f} %",
        ),
        Figure(
            f"after any turn of ≥ {WIDE_CALLS} calls: share of the previous request's input read back",
            f"{worst_kept * 100:.1f} %",
            "100 % (no cliff)",
            worst_kept >= 0.999,
        ),
    ]
    worst = worst_mid
    section.figures += figures
    section.notes += [
        "Every token figure is the emulator's usage as the real `anthropic` client received it (the demo "
        "subprocess talks to it over HTTP through ANTHROPIC_BASE_URL); the emulator counts tokens as "
        "characters / 4 and models the API's prompt cache: an entry is read only if a breakpoint "
        "finds it within 20 blocks, and written only past the model's minimum "
        "(tests/fakes/anthropic_models.py).",
        "Specship's breakpoints: the system prompt and the two newest user turns. The previous user turn's "
        "mark sits where the last request wrote its entry, so however many tool calls a turn makes, the "
        "next request reads everything before the newest turn.",
        "Cost: each request's usage at the catalogue's list prices (bot/agent/catalogue.json), cache writes "
        "at the 5-minute rate.",
        "The variants make two or three consecutive turns of the demo one turn of parallel calls. A "
        "request can never read from the cache what no earlier request sent, so the share of the request "
        "after such a turn is bounded by that turn's own size: at the start of the demo the merged turn "
        "views every planning document (more tokens than the context before it), mid-demo it is a tenth "
        "of the context. The last column is the breakpoints' own property: everything the previous "
        "request sent is read back (before issue 17 the newest mark found nothing within 20 blocks).",
        "Where the system prompt and tools are below a model's cache minimum, they are not cached on their "
        "own (so not shared across runs): the first request's breakpoint on the task prompt caches them "
        "together with it, and every later request of the run reads them.",
    ]
    section.data = {
        "worst_wide_share": worst,
        "totals": {m: dataclasses.asdict(u) for m, u in totals.items()},
    }
    return section


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main().show()
