"""Markdown block structure without markdown-it, for the constructs Spec Kit files are made of.

markdown-it's block algorithm (CommonMark + GFM tables, inline and references off, as
speckit.markdown configures it) over the same per-line state, keeping only what the reader uses:
headings, list items with their first paragraph, table rows, fences and HTML comments. No token
objects, no rule chain, no logging. Anything else (tabs, indented code, setext headings, other
HTML, structured blockquotes) raises Unsupported and markdown-it reads the file instead."""

from __future__ import annotations

from bot.speckit.block_lines import (
    TRIM,
    body_cells,
    bullet_marker,
    delimiter_count,
    ordered_marker,
    plain,
    row_cells,
    underline,
)

_MAX_DEPTH = 8  # markdown-it stops nesting at level 20 (two levels per list); far below it, give up
_MAX_AUTOCOMPLETED_CELLS = 0x10000  # markdown-it's own cap on the empty cells it adds to short rows

Heading = tuple[int, str, int]  # level, raw text, line (1-based)
Item = tuple[int, int, bool, "int | None", str, int]  # line, end, ordered, number, text, depth
Row = tuple[int, tuple[str, ...], bool]  # line, cells, header
Fence = tuple[int, int, str, str, bool]  # line, end, info, content, fenced


class Unsupported(Exception):
    """The document uses a construct this scanner does not follow; markdown-it parses it."""


class Blocks:
    """What speckit.markdown keeps of a document's block tokens, in token order."""

    __slots__ = ("fences", "headings", "hidden", "items", "rows")

    def __init__(self) -> None:
        self.headings: list[Heading] = []
        self.items: list[Item] = []
        self.rows: list[Row] = []
        self.fences: list[Fence] = []
        self.hidden: set[int] = set()


def scan(lines: list[str]) -> Blocks:
    """The blocks of a document given as its lines (LF-split, front matter already blanked).

    Raises Unsupported for a document outside the subset."""
    return _Scanner(lines).run()


class _Scanner:
    """markdown-it's StateBlock and block rules, over lines instead of offsets (no tabs, so a
    line's indent in columns is its offset)."""

    def __init__(self, lines: list[str]) -> None:
        text = "\n".join(lines)
        if "\t" in text or "\0" in text:
            raise Unsupported("tab or NUL")  # tab stops and NUL replacement are not ported
        # markdown-it drops a last line that holds nothing but spaces; the line before it then
        # still ends in a newline (which a fence's content keeps)
        self.newline_at_end = bool(lines) and not lines[-1].strip(" ")
        if self.newline_at_end:
            lines = lines[:-1]
        self.lines = lines
        self.max = len(lines)
        self.ind = [len(line) - len(line.lstrip(" ")) for line in lines]
        self.lengths = [len(line) for line in lines]
        self.blk = 0  # blkIndent
        self.list_indent = -1
        self.parent = "root"
        self.depth = 0
        self.out = Blocks()
        self.open_items: list[list[object]] = []

    def run(self) -> Blocks:
        if self.max:
            self.tokenize(0)
        return self.out

    def rest(self, line: int) -> str:
        return self.lines[line][self.ind[line] :]

    def tokenize(self, line: int) -> int:
        """Blocks from `line` while they are indented at least blkIndent; the line after them."""
        end, ind, lengths = self.max, self.ind, self.lengths
        while line < end:
            while line < end and ind[line] >= lengths[line]:
                line += 1
            if line >= end or ind[line] < self.blk:
                return line
            line = self.block(line)
            if line < end and ind[line] >= lengths[line]:
                line += 1
        return line

    def block(self, line: int) -> int:
        """One block starting at `line` (markdown-it's rule order); the line after it."""
        found = self.table(line, False)
        if found:
            return found
        if self.ind[line] - self.blk >= 4:
            raise Unsupported("indented code")
        ch = self.lines[line][self.ind[line]]
        if ch in "`~":
            found = self.fence(line, False)
            if found:
                return found
        elif ch == ">":
            return self.blockquote(line)
        if ch in "*-_":
            found = self.hr(line, False)
            if found:
                return found
        if ch in "*-+" or "0" <= ch <= "9":
            found = self.list(line, False)
            if found:
                return found
        if ch == "<":
            return self.html(line, False)
        if ch == "#":
            found = self.heading(line, False)
            if found:
                return found
        return self.paragraph(line)

    def terminates(self, line: int, rules: str) -> bool:
        """Whether a block of one of `rules` (silent checks, in markdown-it's order) starts at `line`.

        Rules: t table, f fence, b blockquote, r thematic break, l list, h HTML, # heading. Only the
        table can start on a line whatever its first character; the others each need their own."""
        ind = self.ind[line]
        if ind - self.blk >= 4:
            return False  # every rule begins by refusing an indented-code line
        text = self.lines[line]
        if "t" in rules and "|" in text and self.table(line, True):
            return True
        if ind >= len(text):
            return False
        ch = text[ind]
        if ch in "`~":
            return "f" in rules and bool(self.fence(line, True))
        if ch == ">":
            return "b" in rules
        if ch in "*-_" and "r" in rules and self.hr(line, True):
            return True
        if ch in "*-+" or "0" <= ch <= "9":
            return "l" in rules and bool(self.list(line, True))
        if ch == "<":
            return "h" in rules and self.html(line, True) > 0
        if ch == "#":
            return "#" in rules and bool(self.heading(line, True))
        return False

    def table(self, start: int, silent: bool) -> int:
        # markdown-it's checks, cheapest first (each only refuses): the header needs a `|`
        if start + 2 > self.max or "|" not in self.lines[start]:
            return 0
        nxt = start + 1
        if self.ind[nxt] < self.blk or self.ind[nxt] - self.blk >= 4:
            return 0
        aligns = delimiter_count(self.rest(nxt))
        if not aligns:
            return 0
        head = self.rest(start).strip(TRIM)
        if "|" not in head or self.ind[start] - self.blk >= 4:
            return 0
        cells = row_cells(head)
        count = len(cells)
        if count == 0 or count != aligns:
            return 0
        if silent:
            return 1
        old_parent, self.parent = self.parent, "table"
        self.out.rows.append((start + 1, tuple(c.strip(TRIM).strip() for c in cells), True))
        autocompleted = 0
        line = start + 2
        while line < self.max:
            if self.ind[line] < self.blk or self.terminates(line, "fbrlh#"):
                break
            text = self.rest(line).strip(TRIM)
            if not text or self.ind[line] - self.blk >= 4:
                break
            cells = row_cells(text)
            autocompleted += count - len(cells)
            if autocompleted > _MAX_AUTOCOMPLETED_CELLS:
                break
            self.out.rows.append((line + 1, body_cells(cells, count), False))
            line += 1
        self.parent = old_parent
        return line

    def fence(self, start: int, silent: bool) -> int:
        text = self.rest(start)
        if len(text) < 3:
            return 0
        marker = text[0]
        length = len(text) - len(text.lstrip(marker))
        if length < 3:
            return 0
        params = text[length:]
        if marker == "`" and "`" in params:
            return 0
        if silent:
            return 1
        line = start
        closed = False
        while True:
            line += 1
            if line >= self.max:
                break
            body = self.lines[line]
            pos = self.ind[line]
            if pos < len(body) and pos < self.blk:
                break
            if pos >= len(body) or body[pos] != marker:
                continue
            if pos - self.blk >= 4:
                continue
            run = len(body) - pos - len(body[pos:].lstrip(marker))
            if run < length:
                continue
            if body[pos + run :].strip(" "):
                continue
            closed = True
            break
        # up to the opening fence's indent is taken off each line (no line after `start` is an
        # item's first line, so `ind` is each one's own leading spaces)
        indent = self.ind[start]
        content = "".join(self.lines[i][min(indent, self.ind[i]) :] + "\n" for i in range(start + 1, line))
        if line == self.max and line > start + 1 and not self.newline_at_end:
            content = content[:-1]  # the file's last line, with no newline after it
        after = line + 1 if closed else line
        self.out.fences.append((start + 1, after, params.strip(), content, True))
        self.out.hidden.update(range(start + 1, after + 1))
        return after

    def blockquote(self, start: int) -> int:
        """Only a top-level quote of plain paragraph lines, ended by a blank line or the end."""
        if self.blk or self.open_items:
            raise Unsupported("blockquote inside a list")
        line = start
        while line < self.max and self.ind[line] < self.lengths[line]:
            text = self.lines[line]
            pos = self.ind[line]
            if pos >= 4 or text[pos] != ">":
                raise Unsupported("lazy blockquote line")
            inner = text[pos + 1 :]
            inner = inner[1:] if inner.startswith(" ") else inner
            if not plain(inner):
                raise Unsupported("blockquote with structure")
            line += 1
        return line

    def hr(self, start: int, silent: bool) -> int:
        text = self.rest(start)
        marker = text[0]
        if text.strip(marker + " \t") or text.count(marker) < 3:
            return 0
        return 1 if silent else start + 1

    def list(self, start: int, silent: bool) -> int:
        if self.ind[start] - self.blk >= 4:
            return 0
        if self.list_indent >= 0 and self.ind[start] - self.list_indent >= 4 and self.ind[start] < self.blk:
            return 0
        terminating = silent and self.parent == "paragraph" and self.ind[start] >= self.blk
        after = ordered_marker(self.lines[start], self.ind[start])
        if after >= 0:
            ordered = True
            number_text = self.lines[start][self.ind[start] : after - 1]
            if terminating and int(number_text) != 1:
                return 0
        else:
            after = bullet_marker(self.lines[start], self.ind[start])
            if after < 0:
                return 0
            ordered = False
            number_text = ""
        if terminating and not self.lines[start][after:].strip(" \t"):
            return 0
        marker = self.lines[start][after - 1]
        if silent:
            return 1
        if self.depth >= _MAX_DEPTH:
            raise Unsupported("lists nested too deep")
        old_parent, self.parent = self.parent, "list"
        self.depth += 1
        line = self.list_items(start, after, ordered, number_text, marker)
        self.depth -= 1
        self.parent = old_parent
        return line

    def list_items(self, line: int, after: int, ordered: bool, number_text: str, marker: str) -> int:
        """The items of one list, the first at `line` with its marker ending before `after`."""
        while line < self.max:
            text = self.lines[line]
            initial = after
            content = len(text) - len(text[after:].lstrip(" ")) if after < len(text) else after
            spaces = content - initial
            gap = 1 if content >= len(text) else spaces
            if gap > 4:
                raise Unsupported("indented code in a list item")
            indent = initial + gap
            number = int(number_text) if ordered else None
            item: list[object] = [line + 1, 0, ordered, number, None, self.depth]
            self.open_items.append(item)
            old_ind = self.ind[line]
            old_list_indent = self.list_indent
            self.list_indent = self.blk
            self.blk = indent
            self.ind[line] = content
            nxt = line + 1  # an empty item followed by a blank line (or nothing) is empty
            if content >= len(text) and (nxt >= self.max or self.ind[nxt] >= self.lengths[nxt]):
                end = min(line + 2, self.max)
            else:
                end = self.tokenize(line)
            self.blk = self.list_indent
            self.list_indent = old_list_indent
            self.ind[line] = old_ind
            self.open_items.pop()
            self.out.items.append((int(item[0]), end, ordered, number, str(item[4] or ""), self.depth))  # type: ignore[call-overload]
            line = end
            if line >= self.max or self.ind[line] < self.blk or self.ind[line] - self.blk >= 4:
                break
            if self.terminates(line, "fbr"):
                break
            if ordered:
                after = ordered_marker(self.lines[line], self.ind[line])
                if after < 0:
                    break
                number_text = self.lines[line][self.ind[line] : after - 1]
            else:
                after = bullet_marker(self.lines[line], self.ind[line])
                if after < 0:
                    break
            if self.lines[line][after - 1] != marker:
                break
        return line

    def html(self, start: int, silent: bool) -> int:
        """Only HTML comments; any other HTML start is left to markdown-it."""
        text = self.rest(start)
        if not text.startswith("<!--"):
            raise Unsupported("HTML block")
        if silent:
            return 1
        line = start + 1
        if "-->" not in text:
            while line < self.max:
                if self.ind[line] < self.blk and self.ind[line] < self.lengths[line]:
                    break
                if "-->" in self.rest(line):
                    line += 1
                    break
                line += 1
        self.out.hidden.update(range(start + 1, line + 1))
        return line

    def heading(self, start: int, silent: bool) -> int:
        text = self.rest(start)
        level = len(text) - len(text.lstrip("#"))
        if level > 6 or (level < len(text) and text[level] not in " \t"):
            return 0
        if silent:
            return 1
        body = text[level:].rstrip(" \t")
        trimmed = body.rstrip("#")
        if len(trimmed) < len(body) and trimmed and trimmed[-1] in " \t":
            body = trimmed
        elif not trimmed:
            body = ""
        self.out.headings.append((level, body.strip(TRIM), start + 1))
        return start + 1

    def paragraph(self, start: int) -> int:
        """A paragraph (after making sure no setext underline turns it into a heading)."""
        old_parent, self.parent = self.parent, "paragraph"
        line = start + 1
        while line < self.max and self.ind[line] < self.lengths[line]:
            shift = self.ind[line] - self.blk
            if shift > 3:
                line += 1
                continue
            if shift >= 0 and self.lines[line][self.ind[line]] in "-=" and underline(self.rest(line)):
                raise Unsupported("setext heading")
            if self.terminates(line, "tfbrlh#"):
                break
            line += 1
        self.parent = old_parent
        if self.open_items and self.open_items[-1][4] is None:
            first = self.lines[start][self.ind[start] :]
            words = " ".join([first, *self.lines[start + 1 : line]]).split()
            self.open_items[-1][4] = " ".join(words)
        return line
