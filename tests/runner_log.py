"""How the Actions runner reads a job log: which lines sit outside `::stop-commands::` sections."""

from __future__ import annotations

import re

STOP = re.compile(r"::stop-commands::([0-9a-f]{32})")
COMMAND_PREFIXES = ("::", "##[")


def outside_stops(text: str) -> list[str]:
    """The lines the runner still parses for commands (the stop and resume markers left out)."""
    outside: list[str] = []
    token: str | None = None
    for line in text.splitlines():
        if token is not None:
            if line == f"::{token}::":
                token = None
            continue
        stop = STOP.fullmatch(line)
        if stop:
            token = stop.group(1)
        else:
            outside.append(line)
    return outside


def acting_commands(text: str) -> list[str]:
    """Lines a runner would act on: outside every stop-commands section, starting with :: or ##[."""
    return [line for line in outside_stops(text) if line.lstrip().startswith(COMMAND_PREFIXES)]
