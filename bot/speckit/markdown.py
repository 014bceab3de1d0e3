"""Markdown as Spec Kit writes it: normalized lines, headings, list items, tables, hidden ranges."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml

from bot.speckit import blocks
from bot.speckit.model import Field, Problem
from bot.yaml_loader import SAFE_LOADER

_NEWLINE = re.compile(r"\r\n|\r|\n")
# Rule 9: headings carry template annotations that must not take part in matching.
_ANNOTATION = re.compile(r"\*?\(\s*(?:mandatory|optional\b[^)]*|include if\b[^)]*)\)\*?", re.I)
_SYMBOL_CATEGORIES = frozenset({"So", "Sk", "Cs", "Co", "Cf"})
_FIELD = re.compile(r"\*\*([^*\n]+?)(?:\*\*\s*:|:\s*\*\*)\s*")
_SEPARATOR = re.compile(r"\s+\|\s+$")
_BULLET = re.compile(r"^[-*+]\s+")


@functools.cache
def _parser() -> Any:
    """markdown-it, for the files speckit.blocks does not follow (imported only then).

    Only the block structure is used (inline tokens keep their raw .content), so inline parsing,
    two thirds of the cost on real specs, is switched off; so are link reference definitions,
    which nothing here resolves (such a line stays an ordinary paragraph)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").disable(["inline", "reference"])


def decode(data: bytes | str) -> str:
    """UTF-8 text without BOM, every line ending (CRLF, CR, LF) turned into LF, as markdown-it does."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if text.startswith("\ufeff"):
        text = text[1:]
    # `re` tries the pattern at every position (~70 us on an 8 kB file); most files have no CR at all
    return _NEWLINE.sub("\n", text) if "\r" in text else text


def clean_heading(text: str) -> str:
    """Heading text without annotations, emphasis, emoji and ⚠️, whitespace collapsed (rule 9)."""
    if "(" in text:  # every annotation has one; the pattern cannot skip ahead to it by itself
        text = _ANNOTATION.sub(" ", text)
    text = text.replace("*", "")
    if text.isascii():  # most headings: the only ASCII symbols of those categories are ^ and `
        text = text.replace("^", "").replace("`", "")
    else:
        text = "".join(
            ch
            for ch in text
            if unicodedata.category(ch) not in _SYMBOL_CATEGORIES and not 0xFE00 <= ord(ch) <= 0xFE0F
        )
    return " ".join(text.split())


def unwrap(value: str) -> str:
    """A field value without hard-break spaces/backslash and without wrapping backticks."""
    value = value.strip().rstrip("\\").strip()
    if len(value) >= 2 and value[0] == "`" and value[-1] == "`" and "`" not in value[1:-1]:
        value = value[1:-1].strip()
    return value


# The parts of a Doc are named tuples, not dataclasses: a spec has hundreds of them, and a named
# tuple is made in a fraction of a frozen dataclass's time.


class Heading(NamedTuple):
    """A heading; its section runs from `line` to `end` (inclusive), up to the next peer."""

    level: int
    raw: str
    text: str
    line: int
    end: int


class Item(NamedTuple):
    """A list item: the text of its first paragraph (lines joined) and the lines it spans."""

    line: int
    end: int
    ordered: bool
    number: int | None
    text: str
    depth: int


class Row(NamedTuple):
    """A table row with its cells' inline text."""

    line: int
    cells: tuple[str, ...]
    header: bool


class Fence(NamedTuple):
    """A fenced or indented code block; content lines start at `line + 1` for fences."""

    line: int
    end: int
    info: str
    content: str
    fenced: bool


@dataclass(frozen=True)
class Doc:
    """One Markdown file, parsed once; line numbers are those of the original file."""

    path: str
    lines: tuple[str, ...]
    headings: tuple[Heading, ...]
    items: tuple[Item, ...]
    rows: tuple[Row, ...]
    fences: tuple[Fence, ...]
    hidden: frozenset[int]
    front_matter: str
    problems: tuple[Problem, ...]

    def visible(self, start: int = 1, end: int | None = None) -> Iterator[tuple[int, str]]:
        """(line number, text) of lines outside front matter, code and HTML comments."""
        last = len(self.lines) if end is None else min(end, len(self.lines))
        for number in range(max(start, 1), last + 1):
            if number not in self.hidden:
                yield number, self.lines[number - 1]

    def sections(self, prefix: str) -> list[Heading]:
        """Headings whose cleaned text starts with `prefix` (case-insensitive), any level."""
        wanted = prefix.lower()
        return [h for h in self.headings if h.text.lower().startswith(wanted)]

    def innermost(self, line: int) -> Heading | None:
        """The deepest heading whose section contains `line`."""
        best = None
        for heading in self.headings:
            if heading.line < line <= heading.end:
                best = heading
        return best

    def title(self, prefix: str) -> str:
        """The first H1's text after `prefix:` (the whole H1 when it has another form)."""
        for heading in self.headings:
            if heading.level == 1:
                head, sep, rest = heading.text.partition(":")
                return rest.strip() if sep and head.strip().lower() == prefix.lower() else heading.text
        return ""

    def preamble_end(self) -> int:
        """The last line before the first heading of level 2 or deeper."""
        return next((h.line - 1 for h in self.headings if h.level >= 2), len(self.lines))

    def fields(self, start: int = 1, end: int | None = None) -> tuple[Field, ...]:
        """`**Key**: value` fields (several per line when separated by ` | `)."""
        found = []
        for number, text in self.visible(start, end):
            # Agents sometimes write Technical Context as a bullet list; the keys are the same.
            stripped = _BULLET.sub("", text.strip())
            if not stripped.startswith("**"):
                continue
            matches = list(_FIELD.finditer(stripped))
            matches = [m for i, m in enumerate(matches) if i == 0 or _joined(stripped, m)]
            if not matches or matches[0].start() != 0:
                continue
            for i, match in enumerate(matches):
                stop = matches[i + 1].start() if i + 1 < len(matches) else len(stripped)
                value = _SEPARATOR.sub("", stripped[match.end() : stop])
                found.append(Field(match.group(1).strip(), unwrap(value), number))
        return tuple(found)


def _joined(line: str, match: re.Match[str]) -> bool:
    """A second `**Key**:` on a line counts only after a ` | ` separator."""
    return line[: match.start()].rstrip().endswith("|")


def _front_matter(lines: list[str]) -> int:
    """How many leading lines are YAML front matter (0 when there is none)."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            block = "\n".join(lines[1:index])
            try:
                loaded = yaml.load(block, Loader=SAFE_LOADER)  # noqa: S506 - SAFE_LOADER is a safe loader
            except Exception:  # PyYAML raises several types on odd text; it just isn't front matter
                return 0
            return index + 1 if loaded is None or isinstance(loaded, dict) else 0
    return 0


@functools.lru_cache(maxsize=512)
def load(data: bytes | str, path: str) -> Doc:
    """Parse a Markdown file; never raises, problems are returned in the Doc.

    Cached: readiness and delta look at the same files the reader already parsed, and a Doc is
    immutable."""
    problems: list[Problem] = []
    text = data
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            problems.append(
                Problem(path, line, "the file is not valid UTF-8", "save it as UTF-8", "encoding")
            )
    lines = decode(text).split("\n")
    skip = _front_matter(lines)
    found = _blocks([""] * skip + lines[skip:], path, problems)
    headings, items, rows, fences, hidden = _finish(found, len(lines))
    return Doc(
        path=path,
        lines=tuple(lines),
        headings=headings,
        items=items,
        rows=rows,
        fences=fences,
        hidden=frozenset(hidden | set(range(1, skip + 1))),
        front_matter="\n".join(lines[1 : skip - 1]) if skip else "",
        problems=tuple(problems),
    )


def _blocks(lines: list[str], path: str, problems: list[Problem]) -> blocks.Blocks:
    """The block structure: speckit.blocks when the file is in its subset, else markdown-it."""
    try:
        return blocks.scan(lines)
    except Exception:  # Unsupported, or a scanner bug: either way markdown-it decides
        return from_tokens(_tokens(lines, path, problems))


def _tokens(lines: list[str], path: str, problems: list[Problem]) -> list[Any]:
    try:
        tokens: list[Any] = _parser().parse("\n".join(lines))
    except Exception as exc:  # a markdown-it bug must not stop the run; the file is reported instead
        problems.append(Problem(path, None, f"cannot parse Markdown ({exc})", "simplify it", "parse"))
        return []
    return tokens


def from_tokens(tokens: list[Any]) -> blocks.Blocks:
    """What the reader keeps of markdown-it's block tokens, in the form speckit.blocks gives."""
    found = blocks.Blocks()
    items, rows, fences, hidden = found.items, found.rows, found.fences, found.hidden
    lists: list[bool] = []
    open_items: list[list[Any]] = []
    row: list[Any] | None = None
    in_head = False
    for index, tok in enumerate(tokens):
        kind = tok.type
        span = tok.map or [0, 0]
        if kind == "heading_open" and index + 1 < len(tokens):
            found.headings.append((int(tok.tag[1:]), tokens[index + 1].content, span[0] + 1))
        elif kind in ("bullet_list_open", "ordered_list_open"):
            lists.append(kind == "ordered_list_open")
        elif kind in ("bullet_list_close", "ordered_list_close") and lists:
            lists.pop()
        elif kind == "list_item_open":
            number = (
                int(tok.info) if tok.info.isascii() and tok.info.isdigit() and len(tok.info) < 10 else None
            )
            ordered = lists[-1] if lists else False
            open_items.append([span[0] + 1, span[1], ordered, number, None, len(lists)])
        elif kind == "inline" and open_items and tokens[index - 1].type == "paragraph_open":
            if open_items[-1][4] is None:
                open_items[-1][4] = " ".join(tok.content.split())
        elif kind == "list_item_close" and open_items:
            line, end, ordered, number, text, depth = open_items.pop()
            items.append((line, end, ordered, number, text or "", depth))
        elif kind == "thead_open":
            in_head = True
        elif kind == "thead_close":
            in_head = False
        elif kind == "tr_open":
            row = [span[0] + 1, []]
        elif kind == "inline" and row is not None:
            row[1].append(tok.content.strip())
        elif kind == "tr_close" and row is not None:
            rows.append((row[0], tuple(row[1]), in_head))
            row = None
        elif kind in ("fence", "code_block"):
            fences.append((span[0] + 1, span[1], tok.info.strip(), tok.content, kind == "fence"))
            hidden.update(range(span[0] + 1, span[1] + 1))
        elif kind == "html_block" and tok.content.lstrip().startswith("<!--"):
            hidden.update(range(span[0] + 1, span[1] + 1))
    return found


def _finish(
    found: blocks.Blocks, total: int
) -> tuple[tuple[Heading, ...], tuple[Item, ...], tuple[Row, ...], tuple[Fence, ...], set[int]]:
    raw_headings = found.headings
    headings = []
    for i, (level, raw, line) in enumerate(raw_headings):
        end = next((ln - 1 for lv, _, ln in raw_headings[i + 1 :] if lv <= level), total)
        headings.append(Heading(level, raw, clean_heading(raw), line, end))
    items = sorted(map(Item._make, found.items), key=lambda item: item.line)
    rows = tuple(map(Row._make, found.rows))
    fences = tuple(map(Fence._make, found.fences))
    return tuple(headings), tuple(items), rows, fences, found.hidden
