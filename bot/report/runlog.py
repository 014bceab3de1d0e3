"""The run's log: a line per phase, model turn and tool call, cost so far, and each gate in a log group."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import actions
from bot.agent.ledger import Ledger
from bot.gates import GateResult

MAX_QUOTE = 100  # characters of untrusted text (model prose, a search pattern) in one log line
MAX_FINDINGS = 30  # lines per gate group: the job summary and the PR body carry the rest
PHASE_LINE = "phase: {name}"
TURN_LINE = "turn {turn}: {what} · ${cost:.2f} so far"
TOOL_LINE = "  {name}{detail}{error}"
USAGE_LINE = (
    "model: {turns} turn(s) · {input:,} input ({cached:,} cached) / {output:,} output tokens · ${cost:.2f}"
)
GATE_TITLE = "gate {name}: {label} — {summary}"
GATES_LINE = "gates: {verdicts}"
MORE_FINDINGS = "    … and {n} more (see the job summary or the PR body)"
TRANSCRIPT_LINE = "transcript: {path}"


def one_line(text: str, limit: int = MAX_QUOTE) -> str:
    """Untrusted text squeezed onto one line (no CR/LF can start another), cut at `limit`."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# The Anthropic text editor tool's API name says little in a log line.
SHORT_NAMES = {"str_replace_based_edit_tool": "editor"}


def short_name(name: str) -> str:
    return SHORT_NAMES.get(name, name)


def tool_detail(name: str, tool_input: object, clip: Callable[[str, int], str] = one_line) -> str:
    """What a tool call was about, briefly: the file, the pattern, the tests. Never file contents."""
    if not isinstance(tool_input, Mapping):
        return ""
    if name == "run_tests":
        nodes = tool_input.get("node_ids") or []
        count = len(nodes) if isinstance(nodes, list) else 0
        return f" ({count} test id(s))" if count else " (all tests)"
    if name == "ask_clarification":
        questions = tool_input.get("questions") or []
        return f" ({len(questions) if isinstance(questions, list) else 0} question(s))"
    parts = []
    for key in ("command", "path", "pattern"):
        value = tool_input.get(key)
        if isinstance(value, str) and value:
            parts.append(clip(value, 80))
    return " " + " ".join(parts) if parts else ""


@dataclass
class RunLog:
    """Progress in the job log (and on the terminal in local mode and the demo), as it happens.

    Text the model or the tests wrote is relayed with workflow commands stopped and every line
    passes the redactor (bot.actions), so nothing quoted here can act on the runner or leak.
    """

    rt: actions.Runtime | None = None
    clock: Callable[[], float] = time.monotonic
    ledger: Ledger | None = None
    current: str = "start"
    timings: list[tuple[str, float]] = field(default_factory=list)
    started: float = 0.0
    _phase_started: float = 0.0
    _spent: float = 0.0
    _last_usage: tuple[int, int, int] = (-1, -1, -1)

    def __post_init__(self) -> None:
        self.started = self._phase_started = self.clock()

    @property
    def runtime(self) -> actions.Runtime:
        return self.rt or actions.runtime()

    def _stamp(self) -> str:
        elapsed = self.clock() - self.started
        return f"[{int(elapsed // 60):02d}:{elapsed % 60:04.1f}]"

    def line(self, text: str) -> None:
        """A line of Specship's own words."""
        self.runtime.info(f"{self._stamp()} {text}")

    def quote(self, text: str) -> None:
        """A line that quotes untrusted text: commands stopped in Actions, redacted everywhere."""
        self.runtime.relay(f"{self._stamp()} {text}", log=True)

    def clip(self, text: str, limit: int = MAX_QUOTE) -> str:
        """Untrusted text on one line, redacted before it is cut (a cut secret would escape redaction)."""
        return one_line(self.runtime.redact(str(text)), limit)

    def cost(self) -> float:
        return self.ledger.cost_usd if self.ledger is not None else self._spent

    # -- Progress ---------------------------------------------------------------------------------
    def phase(self, name: str) -> None:
        now = self.clock()
        self.timings.append((self.current, now - self._phase_started))
        self.current, self._phase_started = name, now
        self.line(PHASE_LINE.format(name=name))

    def usage(self, ledger: Ledger, turns: int) -> None:
        self.ledger = ledger
        u = ledger.usage
        seen = (turns, u.total_input, u.output_tokens)
        if seen == self._last_usage:
            return  # the pipeline reports usage at every stop; the log says it once
        self._last_usage = seen
        self.line(
            USAGE_LINE.format(
                turns=turns,
                input=u.total_input,
                cached=u.cache_read_input_tokens,
                output=u.output_tokens,
                cost=ledger.cost_usd,
            )
        )

    # -- the transcript's events (bot.agent.transcript observer) ---------------------------------
    def event(self, kind: str, record: Mapping[str, Any]) -> None:
        if kind == "assistant":
            self._turn(record)
        elif kind == "tool":
            name = str(record.get("name", "?"))
            error = " → error" if record.get("is_error") else ""
            detail = tool_detail(name, record.get("input"), self.clip)
            self.quote(TOOL_LINE.format(name=self.clip(short_name(name), 40), detail=detail, error=error))
        elif kind == "resume":
            self.line("  gate feedback or an answer went back to the model")

    def _turn(self, record: Mapping[str, Any]) -> None:
        usage = record.get("usage")
        if isinstance(usage, Mapping) and isinstance(usage.get("cost_usd"), int | float):
            self._spent += float(usage["cost_usd"])
        raw = record.get("content")
        blocks = [b for b in raw if isinstance(b, Mapping)] if isinstance(raw, list) else []
        tools = [b.get("name", "?") for b in blocks if b.get("type") == "tool_use"]
        prose = " ".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
        names = sorted({short_name(str(name)) for name in tools})
        what = (
            f"{len(tools)} tool call(s): {', '.join(names)}"
            if tools
            else str(record.get("stop_reason") or "answer")
        )
        if record.get("empty"):
            what = "an empty answer"
        text = TURN_LINE.format(turn=record.get("turn", "?"), what=what, cost=self.cost())
        if prose.strip():
            text += f" · “{self.clip(prose)}”"
        self.quote(text)

    # -- gates ------------------------------------------------------------------------------------
    def gates(self, results: Sequence[GateResult]) -> None:
        """Each gate's verdict as a collapsible group holding its findings and what went unchecked."""
        rt = self.runtime
        for result in results:
            title = GATE_TITLE.format(
                name=result.name, label=result.label, summary=self.clip(result.summary, 160)
            )
            with rt.group(title):
                lines = [f"{f.severity}: {f.render()}" for f in result.findings]
                lines += [f"not verified: {u.render()}" for u in result.unverified]
                shown = ["    " + self.clip(text, 300) for text in lines[:MAX_FINDINGS]]
                if len(lines) > MAX_FINDINGS:
                    shown.append(MORE_FINDINGS.format(n=len(lines) - MAX_FINDINGS))
                if shown:
                    rt.relay("\n".join(shown), log=True)
        verdicts = ", ".join(f"{r.name} {r.label}" for r in results)
        self.line(GATES_LINE.format(verdicts=verdicts))

    def finish(self) -> list[tuple[str, float]]:
        """The phases and how long each took (the last one ends now)."""
        self.phase("done")
        return [(name, seconds) for name, seconds in self.timings if name != "start"]
