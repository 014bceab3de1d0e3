"""What model calls cost: token usage, list prices per model, and the run's ledger."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.exceptions import FatalError

# USD per million tokens (input, output), Anthropic list prices. Cache writes cost 1.25x input,
# cache reads 0.1x input. A model missing here needs input/output-price-per-mtok in the settings.
PRICES: dict[str, tuple[float, float]] = {
    "claude-opus-4-6": (5.0, 25.0),
    "claude-sonnet-4-6": (3.0, 15.0),
    "claude-opus-4-1": (15.0, 75.0),
    "claude-opus-4-0": (15.0, 75.0),
    "claude-opus-4-5": (5.0, 25.0),
    "claude-sonnet-4-0": (3.0, 15.0),
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-3-5-haiku-latest": (0.8, 4.0),
}


DEFAULT_MODEL = "claude-sonnet-4-6"


CACHE_WRITE_FACTOR = 1.25


CACHE_READ_FACTOR = 0.1


@dataclass(frozen=True)
class Usage:
    """Tokens of one call; total input counts cache writes and reads too."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    @property
    def total_input(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
        )


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens of one model."""

    input: float
    output: float

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input
            + usage.cache_creation_input_tokens * self.input * CACHE_WRITE_FACTOR
            + usage.cache_read_input_tokens * self.input * CACHE_READ_FACTOR
            + usage.output_tokens * self.output
        ) / 1_000_000


def price_for(model: str, input_per_mtok: float = 0.0, output_per_mtok: float = 0.0) -> Price:
    """The model's price: configured prices win; an unknown model without them stops the run."""
    if input_per_mtok > 0 and output_per_mtok > 0:
        return Price(input_per_mtok, output_per_mtok)
    base = model.split("@", maxsplit=1)[0].removeprefix("anthropic.").removesuffix("-v1:0")
    for name in sorted(PRICES, key=len, reverse=True):
        if base == name or base.startswith(name + "-"):
            return Price(*PRICES[name])
    if model.startswith("scripted"):
        return Price(*PRICES[DEFAULT_MODEL])
    raise FatalError(
        f"Specship has no price for the model '{model}', so it cannot enforce max-cost-usd.",
        "Set input-price-per-mtok and output-price-per-mtok (USD per million tokens) "
        "in .github/specship.yml or the workflow, or use a model from the price table.",
    )


@dataclass(frozen=True)
class Call:
    """One model call in the ledger."""

    usage: Usage
    cost_usd: float
    request_id: str
    seconds: float


@dataclass
class Ledger:
    """Usage and cost per call and per run."""

    price: Price
    calls: list[Call] = field(default_factory=list)

    def record(self, usage: Usage, request_id: str = "", seconds: float = 0.0) -> Call:
        call = Call(usage, self.price.cost(usage), request_id, seconds)
        self.calls.append(call)
        return call

    @property
    def usage(self) -> Usage:
        total = Usage()
        for call in self.calls:
            total = total + call.usage
        return total

    @property
    def cost_usd(self) -> float:
        return sum(call.cost_usd for call in self.calls)

    @property
    def cache_read_share(self) -> float:
        """Share of all input tokens served from the prompt cache."""
        usage = self.usage
        return usage.cache_read_input_tokens / usage.total_input if usage.total_input else 0.0
