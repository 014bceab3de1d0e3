"""Live eval: the real agent implements each task's feature N times, scored against the hidden tests."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from bot import settings as settings_module
from bot.agent.catalogue import catalogue
from bot.agent.factory import NO_MODEL, build_model
from bot.agent.model import Model
from bot.eval.runner import TaskResult, proves_of
from bot.eval.tasks import task_name
from bot.exceptions import FatalError
from bot.pipeline.corpus import Corpus
from bot.pipeline.corpus_run import NO_SERVICES, Service, play

KIND = "live"  # scored like an honest attempt: acceptable exactly when the hidden tests pass
SCRIPTED_ONLY = ("max-repair-rounds",)  # recorded sessions script no repairs; a live agent gets them
UNKNOWN_MODEL = "The model {model!r} is not one Specship knows, so its eval cannot be priced or run."
UNKNOWN_MODEL_FIX = "Use a model id from docs/configuration.md#models{close}."
NO_KEY_FIX = (
    "A live eval calls the model: export ANTHROPIC_API_KEY (or configure a provider, docs/configuration.md), "
    "or run `python -m bot eval` without --model to replay the recorded sessions offline."
)
RERUN = "python -m bot eval --model {model}"


def check_live(model: str, env: Mapping[str, str]) -> None:
    """Before any session: the model is known (close matches otherwise) and there is a way to call it."""
    if catalogue().resolve(model) is None:
        close = catalogue().closest(model)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise FatalError(UNKNOWN_MODEL.format(model=model), UNKNOWN_MODEL_FIX.format(close=hint))
    config = settings_module.load(env)
    if config.provider == "anthropic" and not (config.anthropic_api_key or env.get("ANTHROPIC_API_KEY")):
        raise FatalError(NO_MODEL, NO_KEY_FIX)


def live_task(corpus: Corpus) -> Corpus:
    """The task with the settings that only make sense for recorded sessions left out."""
    kept = {k: v for k, v in corpus.task.settings.items() if k not in SCRIPTED_ONLY}
    return dataclasses.replace(corpus, task=dataclasses.replace(corpus.task, settings=kept))


def run_live(
    corpus: Corpus,
    where: Path,
    model: str,
    repeat: int = 1,
    *,
    services: Mapping[str, Service] = NO_SERVICES,
    progress: Callable[[str], None] = lambda _: None,
) -> TaskResult:
    """`repeat` attempts of the real agent at the task, each from the base commit in its own folder."""
    name, task = task_name(corpus), live_task(corpus)
    result = TaskResult(name, corpus.source)
    started = time.monotonic()

    def model_for(config: settings_module.Settings, deadline: float) -> Model:
        return build_model(model, config, os.environ, deadline, retry_hint=RERUN.format(model=model))

    for attempt in range(1, repeat + 1):
        label = f"{KIND}-{attempt}"
        folder = where / label
        folder.mkdir(parents=True)
        got = play(task, label, folder, model_for, services=services, measured=True)
        row = result.record(label, KIND, got, proves_of(corpus))
        if row is None:
            progress(f"{name} {label}: skipped ({got.skipped})")
            continue
        cost = f"${row.cost_usd:.2f}" if row.cost_usd is not None else "no cost"
        progress(
            f"{name} {label} ({model}): specship {row.said}, hidden {row.hidden} -> "
            f"{row.cell.replace('_', ' ')} [{got.seconds:.1f}s, {row.turns} turns, {cost}]"
        )
    result.seconds = time.monotonic() - started
    return result
