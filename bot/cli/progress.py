"""Progress on the terminal (local mode and the demo): phase, elapsed time, turns, tokens and cost."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot import actions
from bot.agent.ledger import Ledger


@dataclass
class TerminalProgress:
    """Progress on stderr: phase, elapsed time, turns, tokens and cost."""

    started: float = field(default_factory=time.monotonic)
    current: str = "start"
    timings: list[tuple[str, float]] = field(default_factory=list)
    _phase_started: float = field(default_factory=time.monotonic)

    def _line(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        actions.runtime().info(f"[{int(elapsed // 60):02d}:{elapsed % 60:04.1f}] {text}")

    def phase(self, name: str) -> None:
        now = time.monotonic()
        self.timings.append((self.current, now - self._phase_started))
        self.current, self._phase_started = name, now
        self._line(f"phase: {name}")

    def usage(self, ledger: Ledger, turns: int) -> None:
        u = ledger.usage
        self._line(
            f"turns {turns} · input {u.total_input:,} tokens ({u.cache_read_input_tokens:,} cached) · "
            f"output {u.output_tokens:,} · ${ledger.cost_usd:.2f}"
        )

    def finish(self) -> list[tuple[str, float]]:
        self.phase("done")
        return [(name, seconds) for name, seconds in self.timings if name != "start"]
