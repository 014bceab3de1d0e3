"""Progress on the terminal (local mode and the demo): the same lines the Action's log shows."""

from __future__ import annotations

from bot.report.runlog import RunLog


class TerminalProgress(RunLog):
    """The run log on stderr: phases, turns, tool calls, gate groups, tokens and cost so far."""
