"""Eval tasks: verdict-corpus files whose sessions are scored against hidden acceptance tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bot.eval.services import check_needs
from bot.exceptions import FatalError
from bot.pipeline.corpus import Corpus, load_corpus
from bot.pipeline.corpus_run import EXAMPLES

TASK_GLOB = "*/scenarios/**/corpus.yaml"  # every corpus under an example's scenarios/ is an eval task
NO_TASK = "No eval task is named {name!r}: it is neither a corpus file nor one of {known}."
NO_TASK_FIX = "Pass a path to a corpus.yaml (or its folder) or one of the task names above (docs/eval.md)."
NO_HIDDEN = (
    "The eval task {path} has no hidden acceptance tests: without them there is no truth to score against."
)
NO_HIDDEN_FIX = "Add `hidden: {from: <folder of tests>, into: tests/<name>}` under `task:` (docs/eval.md)."
NO_HONEST = "The eval task {path} has no honest session: nothing shows its hidden tests can pass."
NO_HONEST_FIX = "Add a session of kind honest that implements the feature correctly (docs/eval.md)."


def task_name(corpus: Corpus) -> str:
    """A task's short name: its example and its feature."""
    return f"{Path(corpus.task.example).name}/{corpus.task.feature}"


def known_tasks() -> dict[str, Path]:
    """The bundled tasks by name."""
    return {task_name(load_corpus(p)): p for p in sorted(EXAMPLES.glob(TASK_GLOB))}


def load_task(path: Path) -> Corpus:
    """A corpus usable as an eval task: it has hidden tests and an honest session."""
    corpus = load_corpus(path)
    own = (corpus.source.parent / corpus.task.example).resolve()
    if corpus.task.example.startswith(".") and own.is_dir():
        # A team's own repository: `example` is a folder relative to the task file (docs/eval.md).
        corpus = dataclasses.replace(corpus, task=dataclasses.replace(corpus.task, example=str(own)))
    check_needs(corpus.task.needs)
    if corpus.task.hidden is None:
        raise FatalError(NO_HIDDEN.format(path=path), NO_HIDDEN_FIX)
    if not any(s.kind == "honest" for s in corpus.sessions):
        raise FatalError(NO_HONEST.format(path=path), NO_HONEST_FIX)
    return corpus


def select(names: list[str] | None) -> list[Corpus]:
    """The tasks named (corpus paths or bundled names), every bundled task by default."""
    known = known_tasks()
    if not names:
        return [load_task(p) for p in known.values()]
    chosen = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            path = path / "corpus.yaml"
        if name in known:
            path = known[name]
        elif not path.is_file():
            raise FatalError(NO_TASK.format(name=name, known=", ".join(known) or "none"), NO_TASK_FIX)
        chosen.append(load_task(path))
    return chosen
