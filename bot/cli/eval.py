"""`specship eval`: score Specship's verdicts against hidden acceptance tests (recorded or live)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bot.eval import report
from bot.eval.live import check_live, run_live
from bot.eval.runner import TaskResult, run_task
from bot.eval.services import available
from bot.eval.tasks import select
from bot.exceptions import FatalError

FALSE_GREENS = "specship eval: {n} false green(s): Specship said green where the hidden tests failed.\n"
WROTE = "specship eval: wrote {files}\n"
EXIT_FALSE_GREEN = 1


def _say(line: str) -> None:
    sys.stderr.write(f"specship eval: {line}\n")
    sys.stderr.flush()


def main(args: argparse.Namespace) -> int:
    """Run the chosen tasks, print the table, write JSON/Markdown/SVG; exit 1 on any false green."""
    if args.model is not None:
        check_live(args.model, os.environ)
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
                if args.model is not None:
                    results.append(
                        run_live(corpus, where, args.model, args.repeat, services=services, progress=_say)
                    )
                else:
                    results.append(run_task(corpus, where, args.repeat, services, progress=_say))
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    data = report.as_json(results, args.model)
    sys.stdout.write(report.table(data))
    files = report.write(Path(args.out), data)
    sys.stderr.write(WROTE.format(files=", ".join(str(f) for f in files)))
    if data["false_green"]:
        sys.stderr.write(FALSE_GREENS.format(n=data["false_green"]))
        return EXIT_FALSE_GREEN
    return 0
