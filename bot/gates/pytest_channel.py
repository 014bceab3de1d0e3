"""The orchestrator's end of the result channel: the plugin installed read-only, its pipe, its records."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.gates.harness_files import installed

PLUGIN_SOURCE = Path(__file__).with_name("pytest_plugin.py")
# The plugin's own name for it, repeated: importing the plugin here would import pytest into the
# orchestrator (a tenth of a second) for one string; a test holds the two equal.
FD_VARIABLE = "SPECSHIP_RESULTS_FD"
MAX_CHANNEL_BYTES = 64 * 1024 * 1024
DRAIN_S = 5.0


@dataclass(frozen=True)
class Plugin:
    """The plugin as the test process loads it: `-p <module>` with `directory` on PYTHONPATH."""

    directory: Path
    module: str

    def env(self, fd: int, project: Mapping[str, str] | None = None) -> dict[str, str]:
        """The project's environment (test-env, its venv, its import roots) plus the plugin's own."""
        project = dict(project or {})
        # The plugin's directory comes first, the project's import roots (a src layout) after it.
        path = ":".join(p for p in (str(self.directory), project.get("PYTHONPATH", "")) if p)
        return {**project, "PYTHONPATH": path, FD_VARIABLE: str(fd)}


@contextlib.contextmanager
def installed_plugin() -> Iterator[Plugin]:
    """A fresh copy of the plugin, read-only to the sandbox user, removed afterwards.

    The module name is random per run, so no file the tests planted in advance can shadow it.
    """
    module = f"specship_results_{secrets.token_hex(8)}"
    with installed({f"{module}.py": PLUGIN_SOURCE}) as directory:
        yield Plugin(directory, module)


@dataclass
class Received:
    """Every record read from the channel, in order, and what could not be read as one."""

    records: list[dict[str, Any]] = field(default_factory=list)
    malformed: int = 0
    flooded: bool = False
    held: bool = False

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("k") == kind]


class Listener:
    """A pipe whose write end goes to the test process; a thread reads records as they come."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self.received = Received()
        self._buffer = bytearray()
        self._total = 0
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        poller = select.poll()
        poller.register(self.read_fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while not self._stop.is_set():
            if not poller.poll(100):
                continue
            try:
                chunk = os.read(self.read_fd, 64 * 1024)
            except OSError:
                return
            if not chunk:
                self._line(bytes(self._buffer), final=True)
                return
            self._total += len(chunk)
            if self._total > MAX_CHANNEL_BYTES:
                self.received.flooded = True
                return
            self._buffer += chunk
            while (end := self._buffer.find(b"\n")) >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                self._line(line)

    def _line(self, line: bytes, final: bool = False) -> None:
        if not line.strip():
            return
        if final:  # a record without its newline: the writer was cut off mid-record
            self.received.malformed += 1
            return
        try:
            record = json.loads(line)
        except ValueError:
            self.received.malformed += 1
            return
        if isinstance(record, dict) and isinstance(record.get("k"), str):
            self.received.records.append(record)
        else:
            self.received.malformed += 1

    def finish(self) -> Received:
        """Close our write end and read what is left; the test process has ended by now."""
        if self._closed:
            return self.received
        self._closed = True
        os.close(self.write_fd)
        self._thread.join(DRAIN_S)
        # Still open: something outside the killed process group kept the write end.
        self.received.held = self._thread.is_alive()
        self._stop.set()
        self._thread.join()
        os.close(self.read_fd)
        return self.received

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()
