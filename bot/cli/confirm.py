"""A warning a person can act on before money is spent or text leaves the machine; never blocks CI."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from bot import actions

COUNTDOWN_SECONDS = 10
COUNTDOWN = "\rStarting in {left:2d} s: press Ctrl-C to stop, or pass --yes to skip this wait. "
STOPPED = "Stopped before calling the model: nothing was sent and nothing was spent."


def interactive(stdin: TextIO | None = None, stderr: TextIO | None = None) -> bool:
    """A person at a terminal (both ends are TTYs); CI, pipes and redirects are not."""
    streams = (stdin or sys.stdin, stderr or sys.stderr)
    return all(getattr(s, "isatty", lambda: False)() for s in streams)


def warn_then_wait(
    message: str,
    *,
    yes: bool,
    seconds: int = COUNTDOWN_SECONDS,
    tty: bool | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Say `message` as a warning; at a terminal, count down so the user can still stop.

    Without a terminal (CI, a pipe) it only warns: an unattended run must never hang on it.
    Ctrl-C during the countdown ends the command as cancelled, before anything was sent."""
    rt = actions.runtime()
    rt.annotate("warning", message)
    if yes or not (interactive() if tty is None else tty):
        return
    err = rt.err
    try:
        for left in range(seconds, 0, -1):
            err.write(COUNTDOWN.format(left=left))
            err.flush()
            sleep(1)
    except BaseException:  # Ctrl-C or SIGTERM: bot.__main__ turns both into its Cancelled
        err.write("\n")
        rt.info(STOPPED)
        raise
    err.write("\n")
    err.flush()
