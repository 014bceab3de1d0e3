"""The Claude model catalogue (catalogue.json): ids per provider, limits, prices, cache minimums, thinking."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")
FAMILIES = ("fable", "mythos", "opus", "sonnet", "haiku")
# Bedrock cross-region inference profiles prefix the model id with a geography.
BEDROCK_PROFILE = re.compile(r"^(global|us|us-gov|eu|apac|jp|au|ca)\.")
BEDROCK_VERSION = re.compile(r"-v\d+(:\d+)?$")
VERTEX_DATE = re.compile(r"@(\d{8})$")
DATED = re.compile(r"^(?P<base>.+)-\d{8}$")


@dataclass(frozen=True)
class Rates:
    """USD per million tokens of one model, for each kind of token the API bills."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float

    @classmethod
    def standard(cls, input_per_mtok: float, output_per_mtok: float) -> Rates:
        """Rates from input and output alone, with the usual multipliers (1.25x, 2x, 0.1x)."""
        return cls(
            input_per_mtok, output_per_mtok, input_per_mtok * 1.25, input_per_mtok * 2, input_per_mtok * 0.1
        )


@dataclass(frozen=True)
class LongPrompt:
    """Higher rates for every token of a request whose prompt is over `threshold` tokens."""

    threshold: int
    rates: Rates


@dataclass(frozen=True)
class Thinking:
    """What `thinking.type` values a model accepts, whether it thinks by default, how it turns off."""

    default_on: bool
    accepts: tuple[str, ...]
    off: str | None  # the type that turns thinking off ("disabled", "between_tools"), None: it cannot


@dataclass(frozen=True)
class ModelSpec:
    """One catalogue entry."""

    id: str
    family: str
    status: str  # active | legacy | deprecated | retired
    context: int
    max_output: int
    rates: Rates
    cache_min: int | None
    thinking: Thinking
    preserved_thinking: bool
    bedrock: str | None
    bedrock_api: str  # invoke (InvokeModel, /model/{id}/invoke) | mantle (Messages API on bedrock-mantle)
    vertex: str | None
    source: str
    aliases: tuple[str, ...] = ()
    long_prompt: LongPrompt | None = None
    unverified: tuple[str, ...] = ()
    note: str = ""

    def on(self, provider: str) -> str | None:
        """This model's id on a provider (anthropic, bedrock, vertex); None when it is not offered."""
        if provider == "bedrock":
            return self.bedrock
        if provider == "vertex":
            return self.vertex
        return self.id


@dataclass(frozen=True)
class Resolved:
    """What an id means: the catalogue entry it names, or the family reference it is priced by."""

    asked: str
    spec: ModelSpec
    exact: bool  # False: the id is unknown and `spec` is its family's reference model

    @property
    def warning(self) -> str | None:
        if self.exact:
            return None
        return (
            f"Specship's catalogue does not know the model '{self.asked}': it is priced and limited like "
            f"{self.spec.id} (the reference {self.spec.family} model). Set input-price-per-mtok and "
            "output-price-per-mtok if its list price differs."
        )


@dataclass(frozen=True)
class Catalogue:
    """Every known model, the family reference models and the default."""

    checked: str
    default: str
    models: tuple[ModelSpec, ...]
    families: dict[str, str]

    def get(self, model_id: str) -> ModelSpec | None:
        """The entry for an exact catalogue id or alias."""
        for spec in self.models:
            if model_id == spec.id or model_id in spec.aliases:
                return spec
        return None

    def lookup(self, model_id: str) -> ModelSpec | None:
        """The entry an id names on any provider: Bedrock and Vertex forms, profiles and dates included."""
        for entry in self.models:
            if model_id in (entry.bedrock, entry.vertex):
                return entry
        base = base_id(model_id)
        found = self.get(base)
        dated = DATED.match(base)
        if found is None and dated:
            found = self.get(dated["base"])
        return found

    def resolve(self, model_id: str, family: str | None = None) -> Resolved | None:
        """The entry for an id, else its family's reference (from `family`, or guessed from the id)."""
        spec = self.lookup(model_id)
        if spec is not None:
            return Resolved(model_id, spec, exact=True)
        family = family or family_of(model_id)
        if family in self.families:
            reference = self.get(self.families[family])
            if reference is not None:
                return Resolved(model_id, reference, exact=False)
        return None

    def closest(self, model_id: str, n: int = 3) -> list[str]:
        """Catalogue ids that look like a misspelt one."""
        import difflib

        names = [spec.id for spec in self.models if spec.status != "retired"]
        return difflib.get_close_matches(base_id(model_id), names, n=n, cutoff=0.5)


def base_id(model_id: str) -> str:
    """The Claude API form of an id: no Bedrock profile, `anthropic.` or `-v1:0`, no Vertex `@date`."""
    base = BEDROCK_PROFILE.sub("", model_id).removeprefix("anthropic.")
    base = BEDROCK_VERSION.sub("", base)
    return VERTEX_DATE.sub(r"-\1", base)


def family_of(model_id: str) -> str | None:
    """The family an id names (`claude-opus-6` -> opus); ids are guesses, the Models API's `line` wins."""
    words = re.split(r"[-.@:]", base_id(model_id).lower())
    return next((w for w in words if w in FAMILIES), None)


def _rates(data: dict[str, Any]) -> Rates:
    return Rates(
        float(data["input"]),
        float(data["output"]),
        float(data["cache_write_5m"]),
        float(data["cache_write_1h"]),
        float(data["cache_read"]),
    )


def _spec(data: dict[str, Any]) -> ModelSpec:
    thinking = data["thinking"]
    long_prompt = data.get("long_prompt")
    return ModelSpec(
        id=data["id"],
        family=data["family"],
        status=data["status"],
        context=int(data["context"]),
        max_output=int(data["max_output"]),
        rates=_rates(data["price"]),
        cache_min=data.get("cache_min"),
        thinking=Thinking(thinking["default"] == "on", tuple(thinking["accepts"]), thinking["off"]),
        preserved_thinking=bool(data["preserved_thinking"]),
        bedrock=data.get("bedrock"),
        bedrock_api=data.get("bedrock_api", "mantle"),
        vertex=data.get("vertex"),
        source=data["source"],
        aliases=tuple(data.get("aliases", ())),
        long_prompt=(
            LongPrompt(int(long_prompt["threshold"]), _rates(long_prompt["price"])) if long_prompt else None
        ),
        unverified=tuple(data.get("unverified", ())),
        note=data.get("note", ""),
    )


@cache
def catalogue() -> Catalogue:
    """The catalogue shipped with Specship (read once)."""
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return Catalogue(
        checked=data["checked"],
        default=data["default"],
        models=tuple(_spec(entry) for entry in data["models"]),
        families=dict(data["families"]),
    )
