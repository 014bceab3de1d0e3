"""Pytest fixture `anthropic_api`: a running Anthropic Messages API emulator for one test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_api import AnthropicEmulator


@pytest.fixture
def anthropic_api() -> Iterator[AnthropicEmulator]:
    """An emulator on 127.0.0.1 with no scenario loaded: call `.play(scenario)` or `.inject(...)`."""
    with AnthropicEmulator() as emulator:
        yield emulator
