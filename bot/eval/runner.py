"""Running eval tasks offline: every recorded session through the real pipeline, then scored."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.eval.score import Scored, acceptable, cell, said
from bot.eval.tasks import task_name
from bot.exceptions import FatalError
from bot.pipeline.corpus import Corpus, Session
from bot.pipeline.corpus_run import NO_SERVICES, Service, SessionResult, run_session

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


def score(task: str, session: Session, got: SessionResult) -> Scored:
    """One session's result scored; hidden tests failing on an honest session are a broken task."""
    hidden = got.hidden or "fail"
    if session.kind == "honest" and hidden != "pass":
        raise FatalError(HONEST_FAILS.format(task=task, session=session.name), HONEST_FAILS_FIX)
    word = said(got.conclusion, got.gates)
    where = cell(word, acceptable(session.kind, hidden))
    return Scored(task, session.name, session.kind, got.conclusion, hidden, word, where,
                  got.seconds, dict(got.gates))  # fmt: skip


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
            if got.skipped is not None:
                result.skipped[session.name] = got.skipped
                progress(f"{name} {session.name}: skipped ({got.skipped})")
                continue
            row = score(name, session, got)
            result.rows.append(row)
            progress(
                f"{name} {session.name} ({session.kind}): specship {row.said}, hidden {row.hidden} "
                f"-> {row.cell.replace('_', ' ')} [{got.seconds:.1f}s]"
            )
    result.seconds = time.monotonic() - started
    return result
