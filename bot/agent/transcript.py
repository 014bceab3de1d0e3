"""The redacted JSONL transcript, appended after every step so a crash still leaves a record."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.redact import Redactor


class Transcript:
    """Append-only JSONL log of one run; every line passes the redactor before it is written."""

    def __init__(
        self,
        path: Path | None,
        redactor: Redactor | None = None,
        observer: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.path = path
        self.redact = redactor or Redactor()
        # Who follows the run as it happens (the job log, the terminal): told of every record.
        self.observer = observer
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("", encoding="utf-8")

    def write(self, kind: str, data: dict[str, Any]) -> None:
        record = {"t": round(time.time(), 3), "kind": kind, **data}
        if self.path is not None:
            line = self.redact(json.dumps(record, ensure_ascii=False, default=str))
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
                handle.flush()
        if self.observer is not None:
            self.observer(kind, record)
