"""A child's output, bounded: the first and last bytes kept, what falls between counted."""

from __future__ import annotations

import contextlib
import os
import select
import threading
from typing import IO

HEAD_BYTES = 8 * 1024


class Capture:
    """Keeps the first and the last bytes of a stream, counting what falls in between."""

    def __init__(self, cap: int) -> None:
        self.head_cap = min(HEAD_BYTES, cap // 8)
        self.tail_cap = cap - self.head_cap
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > 2 * self.tail_cap:
                del self.tail[: len(self.tail) - self.tail_cap]

    def text(self) -> tuple[str, int]:
        tail = self.tail[-self.tail_cap :] if self.tail_cap else bytearray()
        dropped = self.total - len(self.head) - len(tail)
        head = self.head.decode("utf-8", "replace")
        if dropped <= 0:
            return head + tail.decode("utf-8", "replace"), 0
        marker = f"\n[truncated {dropped} bytes]\n"
        return head + marker + tail.decode("utf-8", "replace"), dropped


def pump(fd: int, capture: Capture, stop: threading.Event) -> None:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    while not stop.is_set():
        if not poller.poll(100):
            continue
        try:
            chunk = os.read(fd, 64 * 1024)
        except OSError:
            return
        if not chunk:
            return
        capture.feed(chunk)


def feed_stdin(pipe: IO[bytes], data: bytes) -> None:
    with contextlib.suppress(OSError):
        pipe.write(data)
    with contextlib.suppress(OSError):
        pipe.close()
