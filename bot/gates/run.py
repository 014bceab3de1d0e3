"""Run every gate in order on one context; a gate that crashes is "not verified", never skipped silently."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import replace

from bot.gates import GateContext, GateResult, Unverified, contracts, fastapi_auth, guard, probe, security
from bot.gates import pytest as pytest_gate
from bot.gates.app_model import AppInfo
from bot.gates.app_source import shared_parses

ORDER = ("pytest", "security", "fastapi_auth", "contracts", "guard")
NEED_APP = frozenset({"fastapi_auth", "contracts"})  # the gates that read the imported app
# The gates that run a sandboxed process of their own (the tests, bandit). The app's import is
# untrusted code running as the same sandbox user: beside one of them it could signal it or write
# its scratch files (bandit's report), so it only ever runs beside Specship's in-process work.
SANDBOXED = frozenset({"pytest", "security"})
FIX_CRASH = "fix what the message names (a file that cannot be read, a missing tool), then run again"


def run_all(ctx: GateContext, only: tuple[str, ...] = ORDER) -> list[GateResult]:
    """All gates (or the named ones); the app is imported once for the auth and contract gates."""
    # Diffs, base blobs, the prepared workspace and parsed modules hold for this gate run only
    # (or for the caller's scope around it).
    with ctx.share.holding_still(), shared_parses():
        return _run(ctx, only)


def _run(ctx: GateContext, only: tuple[str, ...]) -> list[GateResult]:
    info: list[AppInfo] = []
    pending: list[Callable[[], AppInfo]] = []

    def app_info() -> AppInfo:
        if not info:
            info.append(pending.pop()() if pending else probe.load_app_info(ctx))
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
    results: dict[str, GateResult] = {}
    started = not NEED_APP.intersection(only)
    try:
        for name in _schedule(only):
            if not started and name not in SANDBOXED:
                started = True
                _start_probe(ctx, pending)
            results[name] = _timed(name, gates[name])
    finally:
        for wait in pending:  # a gate crashed before the app's import was read: never leave it running
            _quietly(wait)
    return [results[name] for name in only]


def _schedule(only: tuple[str, ...]) -> list[str]:
    """The gates that run a sandboxed process first, those that need the app last (otherwise
    `only`'s order): the app is imported in a thread of its own once no other sandboxed process
    runs, and the in-process gates (guard) run while it loads (see _run)."""
    return sorted(only, key=lambda n: 0 if n in SANDBOXED else 2 if n in NEED_APP else 1)


def _start_probe(ctx: GateContext, pending: list[Callable[[], AppInfo]]) -> None:
    # On an error app_info() finds the app again inside the gate, which then reports it.
    with contextlib.suppress(OSError, ValueError):
        pending.append(probe.start_app_info(ctx))


def _timed(name: str, gate: Callable[[], GateResult]) -> GateResult:
    started = time.monotonic()
    try:
        result = gate()
    except (OSError, ValueError) as exc:
        gap = Unverified(f"the {name} gate could not run: {exc}", FIX_CRASH)
        result = GateResult(name, f"could not run: {exc}", ran=False, unverified=(gap,))
    if not result.seconds:
        result = replace(result, seconds=time.monotonic() - started)
    return result


def _quietly(wait: Callable[[], AppInfo]) -> None:
    # Only waiting for the thread: a gate already failed, and this error has no gate to go to.
    with contextlib.suppress(Exception):
        wait()
