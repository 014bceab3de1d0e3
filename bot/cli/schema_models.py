"""The configuration reference's model sections, generated from the model catalogue."""

from __future__ import annotations

from bot.agent.catalogue import ModelSpec, Rates, catalogue
from bot.agent.thinking import MIN_BUDGET

MODELS_INTRO = """
## Models

Specship's model catalogue (`bot/agent/catalogue.json`, checked {checked}) lists the models below
with their ids on each provider, limits, list prices and thinking modes. The default is
`{default}`. Prices are USD per million tokens: input / output, cache write (5 minutes) and cache
read. Specship writes the prompt cache with the 5-minute lifetime only.

{header}"""
HEADER = (
    "| Model (Claude API id) | Family | Status | Bedrock id | Vertex id | Context | Max output "
    "| Price in / out | Cache write / read | Cache minimum | Thinking |\n"
    "|---|---|---|---|---|--:|--:|---|---|--:|---|\n"
)

PRICES_TEXT = """
### How prices are found

Specship enforces `max-cost-usd` with list prices, in this order:

1. `input-price-per-mtok` and `output-price-per-mtok`, when both are set: cache writes are then
   priced at 1.25x and cache reads at 0.1x the input price.
2. The catalogue entry for the model id. Bedrock ids (`anthropic.…`, `-v1:0`), cross-region
   inference profiles (`global.anthropic.…`, `us.…`, `eu.…`, `apac.…`, `jp.…`) and Vertex ids
   (`…@20250929`) are mapped to the model they name; dated ids (`claude-sonnet-4-5-20250929`) too.
3. For an id the catalogue does not know (a model newer than this release), its family: the Models
   API's `line` for the key, else the family word in the id (`claude-opus-6` is an Opus). It is
   priced like the family's reference model ({references}), and the run says so in a warning.
   An id with no family stops the run before any call; set the two prices to use it.

Before the first call, on the Claude API, Specship asks the Models API about the model id (a free
request): a misspelt or retired id stops the run with the closest valid ids, a deprecated one gives
a warning, and `max-tokens` is checked against the model's output limit. Bedrock and Vertex have no
Models API; there the catalogue's limits apply and an id it does not know is not checked before the
first call. Before every call the run's spend plus that call's worst case (the prompt, estimated,
priced as cache writes, plus `max-tokens` of output) must fit in `max-cost-usd`; attempts the API
billed without an answer (a stream that broke after it started) are counted too.

Entries marked † have a field Anthropic's own pages did not confirm when the catalogue was
checked (third-party price lists, or no published cache minimum): {unverified}.
"""

THINKING_TEXT = """
### Thinking

`thinking` sets the request's `thinking` parameter: `auto` sends none (the model's default, shown
in the table: "on" models think adaptively by default), `adaptive` asks for adaptive thinking,
`enabled` asks for manual extended thinking with `thinking-budget-tokens` (at least {floor}, below
`max-tokens`), and `off` sends the model's off switch (`disabled`, or `between_tools` on Claude
Sonnet 5.5). Specship refuses a mode the model rejects before the first call (for example `off` on
the models that always think). Thinking and redacted-thinking blocks are sent back to the API
exactly as they came, signatures included, as tool use with thinking requires.
"""

PROVIDERS_TEXT = """
### Providers

- `anthropic`: the Claude API with `anthropic-api-key`.
- `bedrock`: Amazon Bedrock with the job's AWS credentials (`AWS_REGION` and the standard
  credential chain, or `AWS_BEARER_TOKEN_BEDROCK`). Models the catalogue lists under InvokeModel
  (Opus 4.6 and earlier, and every `global.`/`us.`/`eu.` inference profile) go through
  `bedrock-runtime` InvokeModel; newer ones through Bedrock's Messages API endpoint
  (`bedrock-mantle`). A Claude API id such as the default is translated to its Bedrock id.
- `vertex`: Google Vertex AI with `CLOUD_ML_REGION`, `ANTHROPIC_VERTEX_PROJECT_ID` and Google
  credentials (`GOOGLE_APPLICATION_CREDENTIALS` or the default chain).
"""


def _money(value: float) -> str:
    return f"${value:g}"


def _rates(rates: Rates) -> tuple[str, str]:
    return (
        f"{_money(rates.input)} / {_money(rates.output)}",
        f"{_money(rates.cache_write_5m)} / {_money(rates.cache_read)}",
    )


def _thinking(spec: ModelSpec) -> str:
    default = "on" if spec.thinking.default_on else "off"
    off = spec.thinking.off or "cannot be turned off"
    return f"{default}; accepts {', '.join(spec.thinking.accepts)}; off: {off}"


def _tokens(n: int) -> str:
    return f"{n // 1000}K" if n < 1_000_000 else f"{n // 1_000_000}M"


def models_reference() -> str:
    """The Models, prices, thinking and providers sections of docs/configuration.md."""
    known = catalogue()
    lines = [MODELS_INTRO.format(checked=known.checked, default=known.default, header=HEADER)]
    for spec in known.models:
        price, cache = _rates(spec.rates)
        if spec.long_prompt is not None:
            long_price, _ = _rates(spec.long_prompt.rates)
            price += f" (prompts over {_tokens(spec.long_prompt.threshold)}: {long_price})"
        mark = " †" if spec.unverified else ""
        bedrock = f"`{spec.bedrock}` ({spec.bedrock_api})" if spec.bedrock else "—"
        vertex = f"`{spec.vertex}`" if spec.vertex else "—"
        minimum = f"{spec.cache_min:,}" if spec.cache_min else "not published"
        lines.append(
            f"| `{spec.id}`{mark} | {spec.family} | {spec.status} | {bedrock} | {vertex} | "
            f"{_tokens(spec.context)} | {_tokens(spec.max_output)} | {price} | {cache} | {minimum} | "
            f"{_thinking(spec)} |\n"
        )
    references = ", ".join(f"{family}: `{model}`" for family, model in known.families.items())
    unverified = "; ".join(
        f"`{spec.id}` ({', '.join(spec.unverified)})" for spec in known.models if spec.unverified
    )
    notes = [f"- `{spec.id}`: {spec.note}\n" for spec in known.models if spec.note]
    lines.append(PRICES_TEXT.format(references=references, unverified=unverified))
    if notes:
        lines.append("\nNotes:\n\n" + "".join(notes))
    lines.append(THINKING_TEXT.format(floor=MIN_BUDGET))
    lines.append(PROVIDERS_TEXT)
    return "".join(lines)
