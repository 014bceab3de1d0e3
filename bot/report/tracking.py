"""The live tracking comment: one per issue or PR and feature, edited in place as the run moves on."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.agent.ledger import Ledger
from bot.exceptions import FatalError
from bot.github.types import Host
from bot.report.runlog import RunLog

PHASES = ("preflight", "implement", "gates", "push", "pull request")
PHASE_LABELS = {
    "preflight": "Checked permissions and the spec",
    "implement": "Implemented the spec",
    "gates": "Ran the gates (tests, security, auth, contracts, guard)",
    "push": "Pushed the branch",
    "pull request": "Opened or updated the pull request",
}
HEADLINES = {
    "running": ":hourglass_flowing_sand: Specship is working on {subject}",
    "success": ":white_check_mark: Specship finished {subject}: every gate passed",
    "draft": (
        ":construction: Specship finished {subject}, but some gates fail or could not verify the change "
        "(the PR stays a draft)"
    ),
    "clarification": ":question: Specship needs answers before it can implement {subject}",
    "stopped": ":stop_sign: Specship stopped before finishing {subject}",
    "refused": ":no_entry_sign: The model declined to work on {subject}; nothing was pushed",
    "failure": ":x: Specship failed on {subject}",
    "cancelled": ":no_entry: Specship was cancelled while working on {subject}",
    "unchanged": ":zzz: Nothing changed for {subject} since the last run: the PR is up to date",
    "checked": ":mag: Specship checked {subject}",
}
_STATE = re.compile(r"<!-- specship:state (?P<data>\{.*?\}) -->", re.DOTALL)


def marker_key(key: str) -> str:
    """The hidden marker that finds this comment again, e.g. for key 'issue-12:002-task-due-dates'."""
    return f"<!-- specship:tracking:{key} -->"


def state_of(body: str) -> dict[str, Any]:
    """The JSON state a tracking comment carries (processed command ids, open questions)."""
    match = _STATE.search(body)
    if not match:
        return {}
    try:
        data = json.loads(match.group("data"))
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass
class Tracker:
    """Implements the pipeline's Progress on a GitHub comment, edited in place (PATCH, never a new one)."""

    host: Host
    number: int | None  # None until there is an issue or PR to comment on (a push before its PR)
    key: str
    subject: str
    run_url: str
    clock: Callable[[], float] = time.monotonic
    state: dict[str, Any] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    current: str = "preflight"
    status: str = "running"
    notes: list[str] = field(default_factory=list)
    ledger: Ledger | None = None
    turns: int = 0
    started: float = 0.0
    comment_id: int | None = None
    log: RunLog | None = None  # the job log: told of every phase and usage, like the comment
    _last_post: float = -1e9

    def __post_init__(self) -> None:
        self.started = self.clock()

    # -- Progress ---------------------------------------------------------------------------------
    def phase(self, name: str) -> None:
        if self.log is not None:
            self.log.phase(name)
        base = name.split(" ", maxsplit=1)[0]
        if base == "repair":
            self.notes.append(f"Repair round {name.split(' ')[1]}: failing gates went back to the model.")
            base = "implement"
        if base not in PHASES:
            return
        for earlier in PHASES[: PHASES.index(base)]:
            if earlier not in self.done:
                self.done.append(earlier)
        self.current = base
        self.post()

    def usage(self, ledger: Ledger, turns: int) -> None:
        if self.log is not None:
            self.log.usage(ledger, turns)
        self.ledger, self.turns = ledger, turns
        # Usage changes every turn; editing the comment that often would spend the API budget.
        if self.clock() - self._last_post > 60:
            self.post()

    # -- rendering ---------------------------------------------------------------------------------
    def render(self) -> str:
        lines = [f"### {HEADLINES[self.status].format(subject=self.subject)}", ""]
        for phase in PHASES:
            mark = "x" if phase in self.done else " "
            label = PHASE_LABELS[phase]
            if phase == self.current and self.status == "running":
                label += " ← now"
            lines.append(f"- [{mark}] {label}")
        lines.append("")
        lines.extend(f"{note}  " for note in self.notes)
        elapsed = self.clock() - self.started
        stats = f"Elapsed {int(elapsed // 60)} min {int(elapsed % 60)} s"
        if self.ledger is not None:
            usage = self.ledger.usage
            stats += (
                f" · {self.turns} model turns · {usage.total_input:,} input / {usage.output_tokens:,} output "
                f"tokens · ${self.ledger.cost_usd:.2f}"
            )
        lines += ["", f"<sub>{stats} · [workflow run]({self.run_url})</sub>", ""]
        data = json.dumps(self.state, sort_keys=True, separators=(",", ":")).replace("--", "-\\u002d")
        lines += [marker_key(self.key), f"<!-- specship:state {data} -->"]
        return "\n".join(lines)

    def post(self) -> None:
        """Create or edit the one tracking comment for this key."""
        if self.number is None:
            return
        comment = self.host.upsert_comment(self.number, marker_key(self.key), self.render())
        self.comment_id = comment.id
        self._last_post = self.clock()

    def begin(self, heading: str) -> None:
        """Start the next queued command on the same comment: running again, under a heading note."""
        self.status, self.current, self.done = "running", "preflight", []
        self.notes.append(heading)

    def finish(self, status: str, *notes: str) -> None:
        """The final edit: the conclusion, what to do next, cost and duration."""
        self.status = status
        if status in ("success", "draft", "unchanged", "checked"):
            self.done = list(PHASES)
        self.notes.extend(n for n in notes if n)
        self.post()

    def load(self) -> None:
        """Continue the comment an earlier run left for this key: keep its state (the commands it
        handled, open questions), which a fresh post would otherwise wipe."""
        if self.number is None:
            return
        me, marker = self.host.whoami().lower(), marker_key(self.key)
        for comment in self.host.list_comments(self.number):
            if comment.author.lower() == me and marker in comment.body:
                self.state = {**state_of(comment.body), **self.state}
                return

    def abort(self, exc: BaseException) -> None:
        """The final edit for a run that raised: failed (cause and fix), a bug, or cancelled."""
        if isinstance(exc, FatalError):
            self.finish("failure", f"**{exc.cause}**", f"How to fix: {exc.fix}")
        elif isinstance(exc, Exception):
            self.finish(
                "failure",
                f"Specship hit an internal error while in phase: {self.current} ({type(exc).__name__}); "
                "the job log has the details.",
            )
        else:  # SIGTERM (a cancelled job, timeout-minutes) or Ctrl-C
            self.finish(
                "cancelled",
                f"Cancelled while in phase: {self.current}. Any work done so far was pushed to the "
                "branch as a WIP commit.",
            )
