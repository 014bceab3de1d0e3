"""GitHub Actions runtime: outputs, step summary, annotations, masks, log groups and relayed text."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from bot.redact import Redactor

ERROR_TITLE = "Specship"
SUMMARY_FAILED = "### :x: Specship stopped\n\n**What went wrong:** {cause}\n\n**How to fix it:** {fix}\n"
SUMMARY_BUG = "### :boom: Specship hit a bug\n\n`{kind}: {message}`\n\n{hint}\n"


def escape_data(text: str) -> str:
    """Escape a workflow command's message so CR/LF cannot start a new command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command property value (file=, title=): also ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class Runtime:
    """The Actions runtime of this process; every text it emits passes the redactor first."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        out: TextIO | None = None,
        err: TextIO | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.env = dict(os.environ if env is None else env)
        self._out = out
        self._err = err
        self.redact = redactor or Redactor()

    @property
    def out(self) -> TextIO:
        return self._out or sys.stdout

    @property
    def err(self) -> TextIO:
        return self._err or sys.stderr

    @property
    def in_actions(self) -> bool:
        return self.env.get("GITHUB_ACTIONS") == "true"

    def _command(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def mask(self, secret: str) -> None:
        """Register a secret: mask every derived form in the log and redact it everywhere."""
        for form in self.redact.add(secret):
            if self.in_actions:
                for part in form.splitlines():
                    if part.strip():
                        self._command(f"::add-mask::{escape_data(part)}")

    def info(self, message: str) -> None:
        """A log line: stdout in Actions (the log), stderr locally (stdout stays data)."""
        stream = self.out if self.in_actions else self.err
        stream.write(self.redact(message) + "\n")
        stream.flush()

    def annotate(
        self,
        level: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        title: str | None = None,
    ) -> None:
        """An ::error/::warning/::notice annotation (plain text outside Actions)."""
        if level not in ("error", "warning", "notice"):
            raise ValueError(f"unknown annotation level {level!r}")
        message = self.redact(message)
        if not self.in_actions:
            where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
            self.err.write(f"specship: {level}: {where}{message}\n")
            self.err.flush()
            return
        props = []
        if file:
            props.append(f"file={escape_property(file)}")
        if line:
            props.append(f"line={int(line)}")
        if title:
            props.append(f"title={escape_property(self.redact(title))}")
        head = f"::{level} {','.join(props)}" if props else f"::{level}"
        self._command(f"{head}::{escape_data(message)}")

    def output(self, name: str, value: str) -> None:
        """Set a step output; multi-line values use a random heredoc delimiter."""
        path = self.env.get("GITHUB_OUTPUT")
        value = self.redact(value)
        if not path:
            self.info(f"output {name}={value}")
            return
        self._append_file(Path(path), self._file_record(name, value))

    def summary(self, markdown: str) -> None:
        """Append Markdown to the job summary (printed outside Actions)."""
        path = self.env.get("GITHUB_STEP_SUMMARY")
        text = self.redact(markdown)
        if not path:
            return
        self._append_file(Path(path), text if text.endswith("\n") else text + "\n")

    @staticmethod
    def _file_record(name: str, value: str) -> str:
        if "\n" not in value and "\r" not in value:
            return f"{name}={value}\n"
        while True:
            delimiter = f"ghadelimiter_{_token()}"
            if delimiter not in value:
                return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"

    @staticmethod
    def _append_file(path: Path, text: str) -> None:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsible log group (a plain heading outside Actions)."""
        if self.in_actions:
            self._command(f"::group::{escape_data(self.redact(title))}")
        else:
            self.info(f"== {title}")
        try:
            yield
        finally:
            if self.in_actions:
                self._command("::endgroup::")

    def relay(self, text: str, *, log: bool = False) -> None:
        """Print untrusted text (test output, model text) with workflow commands switched off.

        `log=True` makes it a log line like `info` (stderr outside Actions, so stdout stays data).
        """
        text = self.redact(text)
        if not self.in_actions:
            stream = self.err if log else self.out
            stream.write(text if text.endswith("\n") else text + "\n")
            stream.flush()
            return
        token = _token()
        while token in text:
            token = _token()
        self._command(f"::stop-commands::{token}")
        self.out.write(text if text.endswith("\n") else text + "\n")
        self._command(f"::{token}::")

    def fail(self, cause: str, fix: str, *, file: str | None = None, line: int | None = None) -> None:
        """Report a user-facing error: one line in the log (an annotation on `file`:`line` when the
        mistake is in a file), and the same in the job summary."""
        cause, fix = self.redact(cause), self.redact(fix)
        if self.in_actions:
            text = f"{cause} How to fix: {fix}" if fix else cause
            where = f"file={escape_property(file)}," if file else ""
            where += f"line={int(line)}," if file and line else ""
            self._command(f"::error {where}title={ERROR_TITLE}::{escape_data(text)}")
        else:
            self.err.write(f"specship: error: {cause}" + (f" How to fix: {fix}" if fix else "") + "\n")
            self.err.flush()
        self.summary(SUMMARY_FAILED.format(cause=cause, fix=fix or "-"))

    def bug(self, exc: BaseException, hint: str, *, show_traceback: bool = False) -> None:
        """Report an unexpected exception as a bug, without dumping locals or secrets."""
        message = self.redact(str(exc))[:500]
        kind = type(exc).__name__
        line = f"Internal error ({kind}: {message}). {hint}"
        if self.in_actions:
            self._command(f"::error title={ERROR_TITLE} bug::{escape_data(line)}")
        else:
            self.err.write(f"specship: bug: {line}\n")
        if show_traceback:
            import traceback  # only for a bug: its import (linecache, tokenize) is most of ours

            self.err.write(self.redact("".join(traceback.format_exception(exc))))
        self.err.flush()
        self.summary(SUMMARY_BUG.format(kind=kind, message=message, hint=hint))


# The Actions runtime is process-wide by nature (one stdout, one set of GITHUB_* files).
_current: dict[str, Runtime] = {}


def runtime() -> Runtime:
    """The process-wide runtime (created on first use from os.environ)."""
    if "rt" not in _current:
        _current["rt"] = Runtime()
    return _current["rt"]


def use(rt: Runtime) -> Runtime:
    """Install a runtime as the process-wide one (the composition root and tests do this)."""
    _current["rt"] = rt
    return rt


def fail(cause: str, fix: str, *, file: str | None = None, line: int | None = None) -> None:
    runtime().fail(cause, fix, file=file, line=line)


def bug(exc: BaseException, hint: str, *, show_traceback: bool = False) -> None:
    runtime().bug(exc, hint, show_traceback=show_traceback)


def _token() -> str:
    """32 random hex digits: what secrets.token_hex(16) returns (it reads os.urandom too), without
    importing `secrets`, whose `random` and `hashlib` imports every command would pay for."""
    return os.urandom(16).hex()
