"""What every sandboxed process of a run gets: at most the time left in the run's budget, and its network.

The policy is process-wide (one run per process), set by whoever owns the run's limits and read by
sandbox.run, so a gate that starts generated code cannot forget the budget; threads share it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

NETWORK_MODES = ("none", "host")


@dataclass(frozen=True)
class Policy:
    """deadline: a time.monotonic() value no sandboxed process may outlive (None: no budget).
    network: "none" (a fresh network namespace where the kernel allows one) or "host"."""

    deadline: float | None = None
    network: str = "host"


_lock = threading.Lock()
_stack: list[Policy] = [Policy()]


def current() -> Policy:
    with _lock:
        return _stack[-1]


@contextlib.contextmanager
def applied(*, deadline: float | None = None, network: str | None = None) -> Iterator[Policy]:
    """Within the block, sandboxed processes get this policy (unset fields: the outer one's)."""
    if network is not None and network not in NETWORK_MODES:
        raise ValueError(f"network must be one of {', '.join(NETWORK_MODES)}, not {network!r}")
    with _lock:
        outer = _stack[-1]
        inner = replace(
            outer,
            deadline=outer.deadline if deadline is None else deadline,
            network=outer.network if network is None else network,
        )
        _stack.append(inner)
    try:
        yield inner
    finally:
        with _lock:
            _stack.remove(inner)


def time_left(clock: Callable[[], float] = time.monotonic) -> float | None:
    """Seconds until the run's deadline (may be zero or less), or None without a budget."""
    deadline = current().deadline
    return None if deadline is None else deadline - clock()


def capped(timeout: float, clock: Callable[[], float] = time.monotonic) -> tuple[float, bool]:
    """The timeout a process gets: its own, or the time left when that is shorter (then True)."""
    left = time_left(clock)
    if left is not None and left < timeout:
        return left, True
    return timeout, False
