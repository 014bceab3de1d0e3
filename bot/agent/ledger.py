"""What model calls cost: token usage, each model's list prices (from the catalogue), and the run's ledger."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.agent.catalogue import LongPrompt, Rates, Resolved, catalogue
from bot.exceptions import FatalError

NO_PRICE = "Specship has no price for the model '{model}', so it cannot enforce max-cost-usd."
NO_PRICE_FIX = (
    "Set input-price-per-mtok and output-price-per-mtok (USD per million tokens) in .github/specship.yml "
    "or the workflow, or use a model from the catalogue (docs/configuration.md#models)."
)


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
    """One model's rates; a long-prompt tier (if any) applies to every token of a request past it."""

    rates: Rates
    long_prompt: LongPrompt | None = None
    model: str = ""  # the catalogue model these prices are from ("" for configured prices)

    @property
    def input(self) -> float:
        return self.rates.input

    @property
    def output(self) -> float:
        return self.rates.output

    def rates_for(self, prompt_tokens: int) -> Rates:
        if self.long_prompt is not None and prompt_tokens > self.long_prompt.threshold:
            return self.long_prompt.rates
        return self.rates

    def cost(self, usage: Usage) -> float:
        """USD of one call; Specship writes the cache with the default 5-minute lifetime only."""
        r = self.rates_for(usage.total_input)
        return (
            usage.input_tokens * r.input
            + usage.cache_creation_input_tokens * r.cache_write_5m
            + usage.cache_read_input_tokens * r.cache_read
            + usage.output_tokens * r.output
        ) / 1_000_000

    def worst_case(self, prompt_tokens: int, max_tokens: int) -> float:
        """The most one call can cost: every prompt token a cache write, every output token used."""
        r = self.rates_for(prompt_tokens)
        return (prompt_tokens * max(r.input, r.cache_write_5m) + max_tokens * r.output) / 1_000_000


def configured_price(input_per_mtok: float, output_per_mtok: float) -> Price:
    """Prices from the settings: cache writes 1.25x and reads 0.1x the input price."""
    return Price(Rates.standard(input_per_mtok, output_per_mtok))


def price_of(resolved: Resolved) -> Price:
    return Price(resolved.spec.rates, resolved.spec.long_prompt, resolved.spec.id)


def price_for(
    model: str,
    input_per_mtok: float = 0.0,
    output_per_mtok: float = 0.0,
    family: str | None = None,
) -> Price:
    """Configured prices win; then the catalogue entry; then the family's reference model."""
    if input_per_mtok > 0 and output_per_mtok > 0:
        return configured_price(input_per_mtok, output_per_mtok)
    known = catalogue()
    resolved = known.resolve(model.removeprefix("scripted:") or known.default, family)
    if resolved is None and model.startswith("scripted"):
        resolved = known.resolve(known.default)
    if resolved is None:
        raise FatalError(NO_PRICE.format(model=model), NO_PRICE_FIX)
    return price_of(resolved)


@dataclass(frozen=True)
class Call:
    """One model call in the ledger; `failed` calls were billed but gave no usable answer."""

    usage: Usage
    cost_usd: float
    request_id: str
    seconds: float
    failed: bool = False
    estimated: bool = False  # the usage is Specship's estimate: the API reported none


@dataclass
class Ledger:
    """Usage and cost per call and per run, failed-but-billed attempts included."""

    price: Price
    calls: list[Call] = field(default_factory=list)

    def record(
        self,
        usage: Usage,
        request_id: str = "",
        seconds: float = 0.0,
        *,
        failed: bool = False,
        estimated: bool = False,
    ) -> Call:
        call = Call(usage, self.price.cost(usage), request_id, seconds, failed, estimated)
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
    def failed_calls(self) -> list[Call]:
        return [call for call in self.calls if call.failed]

    @property
    def cache_read_share(self) -> float:
        """Share of all input tokens served from the prompt cache."""
        usage = self.usage
        return usage.cache_read_input_tokens / usage.total_input if usage.total_input else 0.0
