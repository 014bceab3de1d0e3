"""The models the Anthropic emulator serves (the service's side, kept apart from Specship's catalogue).

Limits, cache minimums and thinking rules follow Anthropic's docs as checked 2026-12-03 (models
overview, pricing, prompt caching, thinking troubleshooting); lifecycles follow the installed SDK's
deprecation table (Sonnet 4.5 reached end of life on 2026-11-30, Opus 4.5 does on 2027-01-22).
Where the docs give no cache minimum (the 5.1+ models) the emulator assumes 1,024 tokens; tests
that depend on a minimum use a model whose minimum is documented.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EXTENDED = frozenset({"enabled", "disabled"})  # Claude 4.5 and earlier: manual extended thinking only
BOTH = frozenset({"adaptive", "enabled", "disabled"})  # the 4.6 models (enabled is deprecated there)
ADAPTIVE_OFF = frozenset({"adaptive", "disabled"})
ALWAYS = frozenset({"adaptive"})  # always on: disabled and enabled are 400s


@dataclass(frozen=True)
class ModelCard:
    """One model as the API knows it: what the Models API says and what a request may ask of it."""

    id: str
    display_name: str
    line: str | None
    max_output: int
    context: int = 200_000
    cache_min: int = 1024
    thinking_default: bool = False
    thinking_accepts: frozenset[str] = EXTENDED
    preserved_thinking: bool = False
    lifecycle: str = "active"  # active | deprecated | retired
    created_at: str = "2026-01-01T00:00:00Z"
    deprecated_at: str | None = None
    retires_at: str | None = None
    aliases: tuple[str, ...] = ()
    bedrock: tuple[str, ...] = ()  # InvokeModel ids (base id and cross-region inference profiles)
    bedrock_profile_only: bool = False  # on-demand InvokeModel needs an inference profile
    mantle: str | None = None  # the id on Bedrock's Messages API endpoint (bedrock-mantle)
    vertex: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """The Models API's ModelInfo object."""
        return {
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": self.created_at,
            "lifecycle": self.lifecycle,
            "line": self.line,
            "max_input_tokens": self.context,
            "max_tokens": self.max_output,
            "deprecated_at": self.deprecated_at,
            "retires_at": self.retires_at,
        }


def _profiles(base: str, geos: tuple[str, ...] = ("global", "us", "eu")) -> tuple[str, ...]:
    return (base, *(f"{geo}.{base}" for geo in geos))


CARDS: tuple[ModelCard, ...] = (
    ModelCard("claude-fable-5-2", "Claude Fable 5.2", "fable", 128_000, 1_000_000,
              thinking_default=True, thinking_accepts=ALWAYS, preserved_thinking=True,
              created_at="2026-11-09T00:00:00Z", mantle="anthropic.claude-fable-5-2",
              vertex="claude-fable-5-2"),
    ModelCard("claude-fable-5-1", "Claude Fable 5.1", "fable", 128_000, 1_000_000,
              thinking_default=True, thinking_accepts=ALWAYS, preserved_thinking=True,
              created_at="2026-09-01T00:00:00Z", mantle="anthropic.claude-fable-5-1",
              vertex="claude-fable-5-1"),
    ModelCard("claude-opus-5-5", "Claude Opus 5.5", "opus", 128_000, 1_000_000,
              thinking_default=True, thinking_accepts=ALWAYS, preserved_thinking=True,
              created_at="2026-09-22T00:00:00Z", mantle="anthropic.claude-opus-5-5",
              vertex="claude-opus-5-5"),
    ModelCard("claude-opus-5", "Claude Opus 5", "opus", 128_000, 1_000_000, cache_min=512,
              thinking_default=True, thinking_accepts=ADAPTIVE_OFF, created_at="2026-07-24T00:00:00Z",
              mantle="anthropic.claude-opus-5", vertex="claude-opus-5"),
    ModelCard("claude-opus-4-8", "Claude Opus 4.8", "opus", 128_000, 1_000_000,
              thinking_accepts=ADAPTIVE_OFF, mantle="anthropic.claude-opus-4-8", vertex="claude-opus-4-8"),
    ModelCard("claude-opus-4-7", "Claude Opus 4.7", "opus", 128_000, 1_000_000, cache_min=2048,
              thinking_accepts=ADAPTIVE_OFF, mantle="anthropic.claude-opus-4-7", vertex="claude-opus-4-7"),
    ModelCard("claude-opus-4-6", "Claude Opus 4.6", "opus", 128_000, cache_min=4096,
              thinking_accepts=BOTH, bedrock=_profiles("anthropic.claude-opus-4-6-v1"),
              vertex="claude-opus-4-6"),
    ModelCard("claude-sonnet-5-5", "Claude Sonnet 5.5", "sonnet", 128_000, 1_000_000,
              thinking_default=True, thinking_accepts=frozenset({"adaptive", "between_tools"}),
              preserved_thinking=True, created_at="2026-09-28T00:00:00Z",
              mantle="anthropic.claude-sonnet-5-5", vertex="claude-sonnet-5-5"),
    ModelCard("claude-sonnet-5", "Claude Sonnet 5", "sonnet", 128_000, 1_000_000,
              thinking_default=True, thinking_accepts=ADAPTIVE_OFF, created_at="2026-06-30T00:00:00Z",
              mantle="anthropic.claude-sonnet-5", vertex="claude-sonnet-5"),
    ModelCard("claude-sonnet-4-6", "Claude Sonnet 4.6", "sonnet", 64_000, thinking_accepts=BOTH,
              bedrock=_profiles("anthropic.claude-sonnet-4-6"), vertex="claude-sonnet-4-6"),
    ModelCard("claude-haiku-5-5", "Claude Haiku 5.5", "haiku", 128_000, 1_000_000,
              thinking_default=True, thinking_accepts=ALWAYS, preserved_thinking=True,
              created_at="2026-10-07T00:00:00Z", mantle="anthropic.claude-haiku-5-5",
              vertex="claude-haiku-5-5"),
    ModelCard("claude-opus-4-5", "Claude Opus 4.5", "opus", 64_000, cache_min=4096, lifecycle="deprecated",
              deprecated_at="2026-07-22T00:00:00Z", retires_at="2027-01-22T00:00:00Z",
              aliases=("claude-opus-4-5-20251101",),
              bedrock=_profiles("anthropic.claude-opus-4-5-20251101-v1:0", ("global", "us")),
              bedrock_profile_only=True, vertex="claude-opus-4-5@20251101"),
    ModelCard("claude-sonnet-4-5", "Claude Sonnet 4.5", "sonnet", 64_000, lifecycle="retired",
              deprecated_at="2026-05-30T00:00:00Z", retires_at="2026-11-30T00:00:00Z",
              aliases=("claude-sonnet-4-5-20250929",),
              bedrock=_profiles("anthropic.claude-sonnet-4-5-20250929-v1:0"), bedrock_profile_only=True,
              vertex="claude-sonnet-4-5@20250929"),
    ModelCard("claude-haiku-4-5", "Claude Haiku 4.5", "haiku", 64_000, cache_min=4096,
              aliases=("claude-haiku-4-5-20251001",),
              bedrock=_profiles("anthropic.claude-haiku-4-5-20251001-v1:0"),
              mantle="anthropic.claude-haiku-4-5", vertex="claude-haiku-4-5@20251001"),
    ModelCard("claude-opus-4-1", "Claude Opus 4.1", "opus", 32_000, lifecycle="retired",
              aliases=("claude-opus-4-1-20250805",), deprecated_at="2026-05-01T00:00:00Z",
              bedrock=_profiles("anthropic.claude-opus-4-1-20250805-v1:0", ("us",)),
              vertex="claude-opus-4-1@20250805"),
    ModelCard("claude-sonnet-4-20250514", "Claude Sonnet 4", "sonnet", 64_000, lifecycle="deprecated",
              deprecated_at="2026-06-01T00:00:00Z", retires_at="2027-01-15T00:00:00Z"),
)  # fmt: skip
MODELS: Mapping[str, ModelCard] = {card.id: card for card in CARDS}


def find(models: Mapping[str, ModelCard], model_id: str) -> ModelCard | None:
    """The card an API id or alias names."""
    card = models.get(model_id)
    if card is not None:
        return card
    return next((c for c in models.values() if model_id in c.aliases), None)


def find_bedrock(models: Mapping[str, ModelCard], model_id: str) -> ModelCard | None:
    return next((c for c in models.values() if model_id in c.bedrock), None)


def find_mantle(models: Mapping[str, ModelCard], model_id: str) -> ModelCard | None:
    return next((c for c in models.values() if model_id == c.mantle), None)


def find_vertex(models: Mapping[str, ModelCard], model_id: str) -> ModelCard | None:
    return next((c for c in models.values() if model_id == c.vertex), None)


def model_list(models: Mapping[str, ModelCard], limit: int, after: str | None) -> dict[str, Any]:
    """GET /v1/models: newest first, paged with after_id; retired models stay listed as retired."""
    listed = sorted(models.values(), key=lambda c: c.created_at, reverse=True)
    ids = [c.id for c in listed]
    start = ids.index(after) + 1 if after in ids else 0
    page = listed[start : start + limit]
    return {
        "data": [c.info() for c in page],
        "has_more": start + limit < len(listed),
        "first_id": page[0].id if page else None,
        "last_id": page[-1].id if page else None,
    }
