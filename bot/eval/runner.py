"""Running eval tasks offline: every recorded session through the real pipeline, then scored."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.eval.score import Scored, acceptable, cell, proven, said
from bot.eval.tasks import task_name
from bot.exceptions import FatalError
from bot.pipeline.corpus import Corpus
from bot.pipeline.corpus_run import NO_SERVICES, Service, SessionResult, run_session

NO_PROVES: Mapping[str, tuple[str, ...]] = {}
HONEST_FAILS = "The hidden tests of {task} fail on its honest session {session}: they cannot be the truth."
HONEST_FAILS_FIX = (
    "Run the hidden tests against the honest session's work and fix whichever is wrong (docs/eval.md)."
)


@dataclass
class TaskResult:
    """One task's scored sessions (every repeat) and the sessions skipped for a missing service."""

    name: str
    source: Path
    rows: list[Scored] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def record(
        self, session: str, kind: str, got: SessionResult, proves: Mapping[str, tuple[str, ...]]
    ) -> Scored | None:
        """Score one session's result into the rows; a skipped session is noted instead (None)."""
        if got.skipped is not None:
            self.skipped[session] = got.skipped
            return None
        row = score(self.name, session, kind, got, proves)
        self.rows.append(row)
        return row


def score(
    task: str, name: str, kind: str, got: SessionResult, proves: Mapping[str, tuple[str, ...]] = NO_PROVES
) -> Scored:
    """One session's result scored; hidden tests failing on an honest session are a broken task."""
    hidden = got.hidden or "fail"
    if kind == "honest" and hidden != "pass":
        raise FatalError(HONEST_FAILS.format(task=task, session=name), HONEST_FAILS_FIX)
    word = said(got.conclusion, got.gates)
    return Scored(
        task, name, kind, got.conclusion, hidden, word, cell(word, acceptable(kind, hidden)), got.seconds,
        dict(got.gates), proven(proves, got.hidden_outcomes), len(proves), got.turns,
        got.cost_usd, got.tokens, got.cache_read_share,
    )  # fmt: skip


def proves_of(corpus: Corpus) -> Mapping[str, tuple[str, ...]]:
    """The task's scenario-to-hidden-tests map (empty without hidden tests)."""
    return corpus.task.hidden.proves if corpus.task.hidden is not None else NO_PROVES


def run_task(
    corpus: Corpus,
    where: Path,
    repeat: int = 1,
    services: Mapping[str, Service] = NO_SERVICES,
    progress: Callable[[str], None] = lambda _: None,
) -> TaskResult:
    """Every session of the task, `repeat` times, each in its own folder under `where`."""
    name = task_name(corpus)
    result = TaskResult(name, corpus.source)
    started = time.monotonic()
    for attempt in range(1, repeat + 1):
        done: dict[str, SessionResult] = {}
        for session in corpus.sessions:
            folder = where / f"{attempt}" / session.name
            folder.mkdir(parents=True)
            got = run_session(corpus, session, folder, done, services)
            done[session.name] = got
            row = result.record(session.name, session.kind, got, proves_of(corpus))
            if row is None:
                progress(f"{name} {session.name}: skipped ({got.skipped})")
                continue
            progress(
                f"{name} {session.name} ({session.kind}): specship {row.said}, hidden {row.hidden} "
                f"-> {row.cell.replace('_', ' ')} [{got.seconds:.1f}s]"
            )
    result.seconds = time.monotonic() - started
    return result
