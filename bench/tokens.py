"""Tokens: system prompt plus tools, input per turn of the 002 scenario, prompt-cache share, projected USD."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from common import Figure, Section

PROMPT_TARGET = 3_000
CACHE_TARGET = 0.80
# Added by the API itself, not sent by Specship (Anthropic's tool-use documentation, Claude 4 models):
# the tool-use system prompt (tool_choice auto) and the schema of the text_editor_20250728 tool.
SERVER_SIDE = {"tool-use system prompt": 346, "text editor tool schema": 700}
PROJECTED = ("claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5")


def estimate(chars: int) -> int:
    """Tokens as characters / 4, rounded up: the same rule as the scripted model's usage."""
    return max(1, math.ceil(chars / 4))


def main(turns: list[dict[str, Any]] | None = None, task_chars: int | None = None) -> Section:
    from bot.agent import prompts
    from bot.agent.ledger import Price, Usage, configured_price, price_for
    from bot.agent.tools import TOOL_DEFINITIONS

    if turns is None:
        from harness import demo_once

        record = demo_once()
        turns, task_chars = record["turns"], record["task_chars"]
    section = Section("Tokens", f"one scripted run of the 002 scenario, {len(turns)} turns")

    system = prompts.render("system.md")
    tools = json.dumps(TOOL_DEFINITIONS, separators=(",", ":"))
    prompt_tokens = estimate(len(system)) + estimate(len(tools))
    server = sum(SERVER_SIDE.values())
    rows = [
        ["system prompt (prompts/system.md.j2)", f"{len(system):,}", f"{estimate(len(system)):,}"],
        [
            f"tool definitions ({len(TOOL_DEFINITIONS)} tools, compact JSON)",
            f"{len(tools):,}",
            f"{estimate(len(tools)):,}",
        ],
        ["**system + tools, as sent**", f"{len(system) + len(tools):,}", f"{prompt_tokens:,}"],
    ]
    if task_chars:
        rows.append(["task prompt of 002 (first user turn)", f"{task_chars:,}", f"{estimate(task_chars):,}"])
    rows += [[f"(API-side) {name}", "—", f"~{n:,}"] for name, n in SERVER_SIDE.items()]
    section.table(["part", "characters", "tokens (chars/4)"], rows)

    usages = [Usage(**{k: v for k, v in t["usage"].items() if k != "cost_usd"}) for t in turns]
    per_turn = [
        [
            str(t["turn"]),
            f"{u.total_input:,}",
            f"{u.cache_read_input_tokens:,}",
            f"{u.cache_creation_input_tokens:,}",
            f"{u.input_tokens:,}",
            f"{u.output_tokens:,}",
        ]
        for t, u in zip(turns, usages, strict=True)
    ]
    total = Usage()
    for usage in usages:
        total = total + usage
    per_turn.append(
        [
            "**total**",
            f"{total.total_input:,}",
            f"{total.cache_read_input_tokens:,}",
            f"{total.cache_creation_input_tokens:,}",
            f"{total.input_tokens:,}",
            f"{total.output_tokens:,}",
        ]
    )
    section.table(["turn", "input", "cache read", "cache write", "uncached", "output"], per_turn)

    share = total.cache_read_input_tokens / total.total_input
    cost_rows = []
    for model in PROJECTED:
        price: Price = price_for(model)
        no_cache = configured_price(price.input, price.output).cost(
            Usage(total.total_input, total.output_tokens)
        )
        reads = price.cost(Usage(cache_read_input_tokens=total.cache_read_input_tokens))
        writes = price.cost(
            Usage(total.input_tokens, cache_creation_input_tokens=total.cache_creation_input_tokens)
        )
        output = price.cost(Usage(output_tokens=total.output_tokens))
        cost_rows.append(
            [
                model,
                f"${price.input:g} / ${price.output:g}",
                f"${price.cost(total):.2f}",
                f"${reads:.2f} / ${writes:.2f} / ${output:.2f}",
                f"${no_cache:.2f}",
            ]
        )
    section.table(
        [
            "model",
            "list price in / out per MTok",
            "projected USD",
            "cache reads / writes+uncached / output",
            "without the cache",
        ],
        cost_rows,
    )

    inputs = [u.total_input for u in usages]
    section.figures += [
        Figure(
            "system prompt + tool definitions (as sent)",
            f"{prompt_tokens:,} tokens",
            f"< {PROMPT_TARGET:,}",
            prompt_tokens < PROMPT_TARGET,
        ),
        Figure(
            "… including the API's own tool-use prompt and editor schema",
            f"~{prompt_tokens + server:,} tokens",
            f"< {PROMPT_TARGET:,}",
            prompt_tokens + server < PROMPT_TARGET,
        ),
        Figure(
            "input tokens per turn (first / median / last)",
            f"{inputs[0]:,} / {sorted(inputs)[len(inputs) // 2]:,} / {inputs[-1]:,}",
        ),
        Figure(
            "share of input served from the prompt cache",
            f"{share * 100:.1f} %",
            f"> {CACHE_TARGET * 100:.0f} %",
            share > CACHE_TARGET,
        ),
        Figure(
            f"projected cost of the 002 scenario ({PROJECTED[0]} list price)",
            f"${price_for(PROJECTED[0]).cost(total):.2f}",
        ),
    ]
    section.notes += [
        "Tokens are estimated as characters / 4 throughout, the rule the scripted model uses for its usage; "
        "real tokenizer counts differ by some percent.",
        "Per-turn usage is the scripted model's: each request's cache read is the previous request's whole "
        "size, as with Specship's cache breakpoints (system, last tool, newest user turn) inside the cache "
        "lifetime; every turn's new content is a cache write.",
        "Prices: Anthropic list prices from the model catalogue (bot/agent/catalogue.json), with each "
        "model's own cache-write and cache-read rates.",
        "The API-side rows are the sizes Anthropic documents for Claude 4 models, not measured here.",
    ]
    why: dict[str, str] = {}
    if prompt_tokens >= PROMPT_TARGET:
        why["system prompt + tool definitions (as sent)"] = (
            f"system prompt {estimate(len(system)):,} tokens, tool definitions {estimate(len(tools)):,}."
        )
    if share <= CACHE_TARGET:
        why["share of input served from the prompt cache"] = (
            f"{total.cache_creation_input_tokens:,} tokens were cache writes and {total.input_tokens:,} "
            "uncached: new content per turn is large against the cached prefix."
        )
    section.data = {
        "why": why,
        "prompt_tokens": prompt_tokens,
        "cache_share": share,
        "usd": price_for(PROJECTED[0]).cost(total),
    }
    return section


if __name__ == "__main__":
    if len(sys.argv) > 1:  # a probe JSON written by bench/demo_probe.py
        saved = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
        main(saved["turns"], saved.get("task_chars")).show()
    else:
        main().show()
