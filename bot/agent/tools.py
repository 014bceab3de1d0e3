"""Tool schemas and handlers the model may call: text editor, search, tests, checks, questions, report."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex

from bot import sandbox
from bot.agent.tool_schemas import EDITOR, TOOL_DEFINITIONS, ToolInputError, validate
from bot.exceptions import NeedsClarification, Submitted
from bot.sandbox.paths import PathRefused, Workspace

MAX_VIEW_CHARS = 60_000
MAX_SEARCH_RESULTS = 100
MAX_SEARCH_FILE_BYTES = 1_000_000
MAX_SEARCH_LINE = 400
MAX_SEARCH_SECONDS = 10.0

SEARCH_TIMED_OUT = (
    "The search stopped after {seconds:.1f} s without finishing ({count} matches so far): the "
    "regular expression backtracks too much (nested repeats such as (a+)+ or (a|aa)+). Use a "
    "simpler pattern, or narrow it with 'path'."
)
NO_TIME_LEFT = (
    "Not run: the run's time budget is used up. Specship is ending the run; the work so far is "
    "kept and published as a draft."
)

UNKNOWN_TOOL = (
    "There is no tool named {name!r}. Specship gives no shell and no network: use "
    "str_replace_based_edit_tool, search, run_tests, run_checks, ask_clarification or submit_report."
)


@dataclass(frozen=True)
class ToolResult:
    """What goes back to the model for one tool_use block."""

    content: str
    is_error: bool = False


@dataclass
class Toolbox:
    """The handlers behind TOOL_DEFINITIONS, bound to one workspace and the harness's runners."""

    workspace: Workspace
    run_tests: Callable[[Sequence[str]], ToolResult]
    run_checks: Callable[[], ToolResult]
    edited: set[str] = field(default_factory=set)
    # Seconds left in the run's budget (None: no budget); by default the sandbox policy's.
    time_left: Callable[[], float | None] = sandbox.time_left

    def definitions(self) -> list[dict[str, Any]]:
        return TOOL_DEFINITIONS

    def execute(self, name: str, tool_input: Any) -> ToolResult:
        """Run one tool call; bad input becomes an is_error result the model can act on."""
        handlers: dict[str, Callable[[dict[str, Any]], ToolResult]] = {
            EDITOR: self._editor,
            "search": self._search,
            "run_tests": lambda i: self.run_tests(i.get("node_ids", [])),
            "run_checks": lambda i: self.run_checks(),
            "ask_clarification": self._ask,
            "submit_report": self._submit,
        }
        handler = handlers.get(name)
        if handler is None:
            return ToolResult(UNKNOWN_TOOL.format(name=name), is_error=True)
        if not isinstance(tool_input, dict):
            return ToolResult("The tool input must be a JSON object.", is_error=True)
        if name in ("search", "run_tests", "run_checks") and self._seconds_left() <= 0:
            return ToolResult(NO_TIME_LEFT, is_error=True)
        try:
            schema = next((d.get("input_schema") for d in TOOL_DEFINITIONS if d["name"] == name), None)
            if schema is not None:
                validate(schema, tool_input)
            return handler(tool_input)
        except (ToolInputError, PathRefused) as exc:
            return ToolResult(str(exc), is_error=True)

    # -- text editor ---------------------------------------------------------------------------
    def _editor(self, args: dict[str, Any]) -> ToolResult:
        command = args.get("command")
        path = args.get("path")
        if not isinstance(path, str) or not path:
            raise ToolInputError("'path' is required (a path relative to the repository root)")
        if command == "view":
            return self._view(path, args.get("view_range"))
        if command == "create":
            text = _text_arg(args, "file_text")
            self.workspace.write_text(path, text)
            self.edited.add(self._rel(path))
            return ToolResult(f"Created {path} ({len(text.splitlines())} lines).")
        if command == "str_replace":
            return self._replace(path, _text_arg(args, "old_str"), args.get("new_str", ""))
        if command == "insert":
            line = args.get("insert_line")
            inserted = args.get("insert_text", args.get("new_str"))
            if not isinstance(line, int) or not isinstance(inserted, str):
                raise ToolInputError("insert needs 'insert_line' (integer) and 'insert_text'")
            return self._insert(path, line, inserted)
        raise ToolInputError(
            f"Unknown command {command!r}: use view, create, str_replace or insert "
            "(undo_edit is not supported)."
        )

    def _rel(self, path: str) -> str:
        return self.workspace.resolve_read(path).relative_to(self.workspace.root).as_posix()

    def _view(self, path: str, view_range: Any) -> ToolResult:
        target = self.workspace.resolve_read(path)
        self.workspace.check_visible(path, target)
        if target.is_dir():
            return ToolResult(self._listing(target))
        if not target.is_file():
            raise ToolInputError(f"{path} does not exist")
        lines = self.workspace.read_text(path).splitlines()
        start, end = 1, len(lines)
        if view_range is not None:
            if (
                not isinstance(view_range, list)
                or len(view_range) != 2
                or not all(isinstance(n, int) for n in view_range)
            ):
                raise ToolInputError("view_range must be [start, end] (end -1 means the last line)")
            start, end = view_range[0], (len(lines) if view_range[1] == -1 else view_range[1])
            if start < 1 or start > max(len(lines), 1) or end < start:
                raise ToolInputError(f"view_range {view_range} is outside 1..{len(lines)}")
        body = "\n".join(f"{n:6}\t{lines[n - 1]}" for n in range(start, min(end, len(lines)) + 1))
        if len(body) > MAX_VIEW_CHARS:
            body = body[:MAX_VIEW_CHARS] + "\n[truncated: use view_range to see the rest]"
        return ToolResult(body or "(empty file)")

    def _listing(self, directory: Path) -> str:
        root = self.workspace.root
        rel = directory.relative_to(root).as_posix()
        prefix = "" if rel == "." else rel
        files = self.workspace.visible_files(prefix or ".")
        shown: set[str] = set()
        for name in files:
            parts = Path(name).relative_to(prefix or ".").parts
            shown.add("/".join(parts[:2]) + ("/" if len(parts) > 2 else ""))
        return "\n".join(sorted(shown)[:500]) or "(empty directory)"

    def _replace(self, path: str, old: str, new: Any) -> ToolResult:
        if not isinstance(new, str):
            raise ToolInputError("new_str must be a string")
        if not old:
            raise ToolInputError("old_str must not be empty")
        text = self.workspace.read_text(path)
        count = text.count(old)
        if count == 0:
            raise ToolInputError(f"old_str was not found in {path}; view the file and copy it exactly")
        if count > 1:
            raise ToolInputError(
                f"old_str occurs {count} times in {path}; include more context to make it unique"
            )
        self.workspace.write_text(path, text.replace(old, new, 1))
        self.edited.add(self._rel(path))
        return ToolResult(f"Edited {path}.")

    def _insert(self, path: str, line: int, new: str) -> ToolResult:
        text = self.workspace.read_text(path)
        lines = text.splitlines(keepends=True)
        if line < 0 or line > len(lines):
            raise ToolInputError(f"insert_line must be between 0 and {len(lines)}")
        if lines and not lines[-1].endswith("\n") and line == len(lines):
            lines[-1] += "\n"
        lines.insert(line, new if new.endswith("\n") else new + "\n")
        self.workspace.write_text(path, "".join(lines))
        self.edited.add(self._rel(path))
        return ToolResult(f"Inserted {len(new.splitlines())} lines after line {line} of {path}.")

    # -- search --------------------------------------------------------------------------------
    def _seconds_left(self) -> float:
        left = self.time_left()
        return float("inf") if left is None else left

    def _search(self, args: dict[str, Any]) -> ToolResult:
        # The `regex` module, because it can stop a match: a catastrophic pattern from the model
        # must not hold the orchestrator past the search's share of the run's time.
        budget = min(MAX_SEARCH_SECONDS, self._seconds_left())
        try:
            pattern = regex.compile(args["pattern"])
        except (regex.error, ValueError, TypeError) as exc:
            raise ToolInputError(f"invalid regular expression: {exc}") from None
        under = args.get("path") or "."
        directory = self.workspace.resolve_read(under)
        root = self.workspace.root
        prefix = directory.relative_to(root).as_posix()
        hits: list[str] = []
        deadline = time.monotonic() + budget
        try:
            for name in self.workspace.visible_files(prefix):
                file = root / name
                try:
                    if file.is_symlink() or file.stat().st_size > MAX_SEARCH_FILE_BYTES:
                        continue
                    text = file.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                for number, line in enumerate(text.splitlines(), 1):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError
                    if len(line) <= 2000 and pattern.search(line, timeout=left):
                        hits.append(f"{name}:{number}: {line.strip()[:MAX_SEARCH_LINE]}")
                        if len(hits) >= MAX_SEARCH_RESULTS:
                            hits.append(f"[stopped at {MAX_SEARCH_RESULTS} matches: narrow the search]")
                            return ToolResult("\n".join(hits))
        except TimeoutError:
            return ToolResult(SEARCH_TIMED_OUT.format(seconds=budget, count=len(hits)), is_error=True)
        return ToolResult("\n".join(hits) or "No matches.")

    # -- ending tools --------------------------------------------------------------------------
    def _ask(self, args: dict[str, Any]) -> ToolResult:
        questions = [q.strip() for q in args["questions"] if q.strip()]
        if not 2 <= len(questions) <= 3:
            raise ToolInputError("ask 2 or 3 non-empty questions")
        raise NeedsClarification(questions)

    def _submit(self, args: dict[str, Any]) -> ToolResult:
        criteria = args["acceptance_criteria"]
        if not criteria:
            raise ToolInputError("acceptance_criteria must list every criterion of the spec")
        raise Submitted(args)


def _text_arg(args: Mapping[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str):
        raise ToolInputError(f"'{name}' is required and must be a string")
    return value
