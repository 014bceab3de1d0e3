"""What one Markdown line can be, as markdown-it's block rules decide it (for speckit.blocks)."""

from __future__ import annotations

# markdown-it's mdTrim set: CommonMark whitespace plus U+2000-U+200A, U+2028 and U+2029.
TRIM = "".join(
    chr(code) for code in sorted({0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x2028, 0x2029, *range(0x2000, 0x200B)})
)


def escaped_split(text: str) -> list[str]:
    """markdown-it's table cell split: on `|`, except a backslash-escaped one (its `\\` dropped)."""
    if "\\" not in text:
        return text.split("|")
    result: list[str] = []
    current = ""
    last = 0
    escaped = False
    for pos, ch in enumerate(text):
        if ch == "|":
            if not escaped:
                result.append(current + text[last:pos])
                current = ""
                last = pos + 1
            else:
                current += text[last : pos - 1]
                last = pos
        escaped = ch == "\\"
    result.append(current + text[last:])
    return result


def row_cells(text: str) -> list[str]:
    """A table row's cells (`text` trimmed), without the empty ones its outer pipes make."""
    cells = escaped_split(text)
    if cells and cells[0] == "":
        cells.pop(0)
    if cells and cells[-1] == "":
        cells.pop()
    return cells


def delimiter_count(text: str) -> int:
    """How many columns a table's delimiter row (`|---|:-:|`) declares; 0 when it is not one."""
    if len(text) < 2 or text[0] not in "|-:":
        return 0
    if text[1] not in "|-: \t" or (text[0] == "-" and text[1] in " \t"):
        return 0
    if text.strip("|-: \t"):  # a character other than those (strip leaves it)
        return 0
    columns = text.split("|")
    aligns = 0
    for i, column in enumerate(columns):
        cell = column.strip(TRIM)
        if not cell:
            if i == 0 or i == len(columns) - 1:
                continue
            return 0
        if not align_ok(cell):
            return 0
        aligns += 1
    return aligns


def bullet_marker(text: str, pos: int) -> int:
    """The column after a bullet marker at `pos` (and the space after it), or -1."""
    if pos >= len(text) or text[pos] not in "*-+":
        return -1
    pos += 1
    if pos < len(text) and text[pos] not in " \t":
        return -1
    return pos


def ordered_marker(text: str, pos: int) -> int:
    """The column after an ordered marker (`1.`, `1)`) at `pos`, or -1."""
    start = pos
    if pos + 1 >= len(text) or not "0" <= text[pos] <= "9":
        return -1
    pos += 1
    while True:
        if pos >= len(text):
            return -1
        ch = text[pos]
        pos += 1
        if "0" <= ch <= "9":
            if pos - start >= 10:
                return -1
            continue
        if ch in ").":
            break
        return -1
    if pos < len(text) and text[pos] not in " \t":
        return -1
    return pos


def body_cells(cells: list[str], count: int) -> tuple[str, ...]:
    """A body row's cells, cut or padded with empty ones to the header's count."""
    padded = [*cells[:count], *[""] * (count - len(cells))]
    return tuple(cell.strip(TRIM).strip() for cell in padded)


def align_ok(cell: str) -> bool:
    """markdown-it's delimiter cell: `^:?-+:?$`."""
    inner = cell[1:] if cell.startswith(":") else cell
    inner = inner[:-1] if inner.endswith(":") else inner
    return bool(inner) and not inner.strip("-")


def underline(text: str) -> bool:
    """A setext heading underline: only `=` or only `-`, then spaces."""
    stripped = text.rstrip(" \t")
    return bool(stripped) and stripped[0] in "-=" and not stripped.strip(stripped[0])


def plain(text: str) -> bool:
    """Text that can only be paragraph text whatever precedes or follows it."""
    stripped = text.lstrip(" ")
    if not stripped or len(text) - len(stripped) >= 4:
        return False
    ch = stripped[0]
    if ch in "#>|<`~=" or "|" in stripped:
        return False
    if ch in "*-+" and stripped[1:2] in ("", " "):
        return False  # a list item
    if ch in "*-_" and not stripped.strip(ch + " "):
        return False  # a thematic break (or, for -, a setext underline)
    return not ("0" <= ch <= "9" and stripped.lstrip("0123456789")[:1] in (".", ")"))
