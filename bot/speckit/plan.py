"""plan.md: header, Technical Context, the Source Code tree (paths in scope), Constitution Check."""

from __future__ import annotations

import re

from bot.speckit.markdown import Doc, load
from bot.speckit.model import GateRow, Plan, PlanPath, Problem

# Box-drawing and ASCII tree art that precedes a name in `tree` output or hand-drawn trees.
_TREE_ART = frozenset("│├└─┬┼┤┌┐┘┴┃┣┗━|+`- \t\u00a0")
_COMMENT = re.compile(r"(?:^|\s)#")
_ANNOTATION = re.compile(r"^\W*(NEW|MODIFIED|DELETED|REMOVED|UNCHANGED|RENAMED)\b", re.I)
_CHECKBOX = re.compile(r"^\[( |x|X)\]\s+(.*)$")


def parse_plan(data: bytes | str, path: str = "plan.md") -> Plan:
    """Read plan.md; malformed parts become problems, never exceptions."""
    doc = load(data, path)
    problems = list(doc.problems)
    context = tuple(f for s in doc.sections("Technical Context") for f in doc.fields(s.line, s.end))
    return Plan(
        path=path,
        title=doc.title("Implementation Plan"),
        fields=doc.fields(1, doc.preamble_end()),
        technical_context=context,
        source_tree=_source_tree(doc, problems),
        constitution_check=_gates(doc),
        problems=tuple(problems),
    )


def _source_tree(doc: Doc, problems: list[Problem]) -> tuple[PlanPath, ...]:
    entries: list[tuple[str, bool, str | None, str, int]] = []
    for section in doc.sections("Source Code"):
        for fence in doc.fences:
            if section.line < fence.line <= section.end:
                first = fence.line + 1 if fence.fenced else fence.line
                entries.extend(_tree_entries(fence.content, first, doc.path, problems))
    paths = {entry[0] for entry in entries}
    result = []
    seen: set[str] = set()
    for path, slash, annotation, comment, line in entries:
        if path in seen:
            continue
        seen.add(path)
        is_dir = slash or any(other.startswith(path + "/") for other in paths)
        result.append(PlanPath(path, is_dir, annotation, comment, line))
    return tuple(result)


def _tree_entries(
    content: str, first_line: int, file: str, problems: list[Problem]
) -> list[tuple[str, bool, str | None, str, int]]:
    """(path, is_dir, annotation, comment, line) per named entry, nesting by the name's column."""
    found: list[tuple[str, bool, str | None, str, int]] = []
    stack: list[tuple[int, str]] = []
    for offset, raw in enumerate(content.split("\n")):
        parts = _COMMENT.split(raw, maxsplit=1)
        body, comment = parts[0], (parts[1].strip() if len(parts) > 1 else "")
        column = next((i for i, ch in enumerate(body) if ch not in _TREE_ART), None)
        if column is None:
            continue
        name = body[column:].strip().strip("`'\"")
        if not name or " " in name or name in ("...", "…"):
            continue
        while stack and stack[-1][0] >= column:
            stack.pop()
        parent = "/".join(n.strip("/") for _, n in stack)
        full = f"{parent}/{name.lstrip('/')}" if parent else name.lstrip("/")
        stack.append((column, name))
        line = first_line + offset
        segments = full.rstrip("/").split("/")
        if ".." in segments or not full.strip("/"):
            problems.append(
                Problem(
                    file,
                    line,
                    f"Source Code tree entry '{full}' leaves the repository",
                    "use repo-root-relative paths",
                    "bad-path",
                )
            )
            continue
        annotation = _ANNOTATION.match(comment)
        label = annotation.group(1).upper() if annotation else None
        found.append((full.rstrip("/"), full.endswith("/"), label, comment, line))
    return found


def _gates(doc: Doc) -> tuple[GateRow, ...]:
    rows: list[GateRow] = []
    for section in doc.sections("Constitution Check"):
        for row in doc.rows:
            if section.line < row.line <= section.end and not row.header and row.cells:
                cells = row.cells
                gate = cells[1] if len(cells) > 2 else ""
                rows.append(GateRow(cells[0], gate, cells[-1] if len(cells) > 1 else "", row.line))
        for item in doc.items:
            match = _CHECKBOX.match(item.text)
            if section.line < item.line <= section.end and match:
                status = "PASS" if match.group(1) != " " else "OPEN"
                rows.append(GateRow(match.group(2), "", status, item.line))
    return tuple(sorted(rows, key=lambda r: r.line))
