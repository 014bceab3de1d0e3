"""Run every gate in order on one context; a gate that crashes is "not verified", never skipped silently."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from bot.gates import GateContext, GateResult, Unverified, contracts, fastapi_auth, guard, probe, security
from bot.gates import pytest as pytest_gate
from bot.gates.app_model import AppInfo
from bot.gates.app_source import shared_parses

ORDER = ("pytest", "security", "fastapi_auth", "contracts", "guard")
FIX_CRASH = "fix what the message names (a file that cannot be read, a missing tool), then run again"


def run_all(ctx: GateContext, only: tuple[str, ...] = ORDER) -> list[GateResult]:
    """All gates (or the named ones); the app is imported once for the auth and contract gates."""
    # Diffs, base blobs, the prepared workspace and parsed modules hold for this gate run only.
    ctx.share.new_scope()
    try:
        with shared_parses():
            return _run(ctx, only)
    finally:
        ctx.share.end_scope()


def _run(ctx: GateContext, only: tuple[str, ...]) -> list[GateResult]:
    info: list[AppInfo] = []

    def app_info() -> AppInfo:
        if not info:
            info.append(probe.load_app_info(ctx))
        return info[0]

    gates: dict[str, Callable[[], GateResult]] = {
        "pytest": lambda: pytest_gate.gate(
            ctx.repo,
            ctx.settings.test_command,
            ctx.settings.app_directory,
            ctx.base,
            python=ctx.python,
            env=ctx.env,
            share=ctx.share,
        ),
        "security": lambda: security.gate(ctx),
        "fastapi_auth": lambda: fastapi_auth.gate(ctx, app_info()),
        "contracts": lambda: contracts.gate(
            ctx, app_info().openapi, app_info().openapi_error or app_info().error
        ),
        "guard": lambda: guard.gate(ctx),
    }
    results = []
    for name in only:
        started = time.monotonic()
        try:
            result = gates[name]()
        except (OSError, ValueError) as exc:
            gap = Unverified(f"the {name} gate could not run: {exc}", FIX_CRASH)
            result = GateResult(name, f"could not run: {exc}", ran=False, unverified=(gap,))
        if not result.seconds:
            result = replace(result, seconds=time.monotonic() - started)
        results.append(result)
    return results
