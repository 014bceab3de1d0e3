"""`specship eval`: score Specship's verdicts against hidden acceptance tests, offline."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bot.agent.catalogue import catalogue
from bot.eval import report
from bot.eval.runner import TaskResult, run_task
from bot.eval.services import available
from bot.eval.tasks import select
from bot.exceptions import FatalError

UNKNOWN_MODEL = "The model {model!r} is not one Specship knows, so its eval cannot be priced or run."
UNKNOWN_MODEL_FIX = "Use a model id from docs/configuration.md#models{close}."
LIVE_NOT_BUILT = "A live eval with {model} is not available yet: this version replays recorded sessions only."
LIVE_NOT_BUILT_FIX = "Run `python -m bot eval` without --model for the offline evaluation."
FALSE_GREENS = "specship eval: {n} false green(s): Specship said green where the hidden tests failed.\n"
WROTE = "specship eval: wrote {files}\n"
EXIT_FALSE_GREEN = 1


def check_model(model: str) -> None:
    """An unknown model is a clear error; a known one is refused until live runs exist."""
    found = catalogue().resolve(model)
    if found is None:
        close = catalogue().closest(model)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise FatalError(UNKNOWN_MODEL.format(model=model), UNKNOWN_MODEL_FIX.format(close=hint))
    raise FatalError(LIVE_NOT_BUILT.format(model=model), LIVE_NOT_BUILT_FIX)


def _say(line: str) -> None:
    sys.stderr.write(f"specship eval: {line}\n")
    sys.stderr.flush()


def main(args: argparse.Namespace) -> int:
    """Run the chosen tasks, print the table, write JSON/Markdown/SVG; exit 1 on any false green."""
    if args.model is not None:
        check_model(args.model)
    if args.repeat < 1:
        raise FatalError(f"--repeat must be at least 1 (got {args.repeat}).", "Pass --repeat 1 or more.")
    tasks = select(args.tasks)  # every input is checked before the first session runs
    parent = Path(tempfile.mkdtemp(prefix="specship-eval-"))
    parent.chmod(0o755)  # the sandbox user runs the tests in there
    try:
        results: list[TaskResult] = []
        with available(n for corpus in tasks for n in corpus.task.needs) as services:
            for index, corpus in enumerate(tasks):
                where = parent / str(index)
                where.mkdir()
                results.append(run_task(corpus, where, args.repeat, services, progress=_say))
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    data = report.as_json(results)
    sys.stdout.write(report.table(data))
    files = report.write(Path(args.out), data)
    sys.stderr.write(WROTE.format(files=", ".join(str(f) for f in files)))
    if data["false_green"]:
        sys.stderr.write(FALSE_GREENS.format(n=data["false_green"]))
        return EXIT_FALSE_GREEN
    return 0
