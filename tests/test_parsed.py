"""One parse per Python source: the same tree for the same text, whatever form the text came in."""

from __future__ import annotations

import ast

import pytest

from bot import parsed


def test_the_same_text_gives_the_same_tree_as_text_or_bytes() -> None:
    text = "def f(x):\n    return x + 1\n"
    first = parsed.parse(text, "a.py")
    assert parsed.parse(text.encode(), "b.py") is first
    assert parsed.parse(b"\xef\xbb\xbf" + text.encode(), "c.py") is first  # a BOM is not text
    assert ast.dump(first) == ast.dump(ast.parse(text))


def test_a_file_declaring_its_own_encoding_is_parsed_as_its_bytes() -> None:
    source = "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1")
    tree = parsed.parse(source, "legacy.py")
    value = tree.body[0].value  # type: ignore[attr-defined]
    assert value.value == "café"  # read as latin-1, as Python itself reads the file


def test_a_syntax_error_names_the_file_it_is_in() -> None:
    parsed.parse("x = 1\n", "ok.py")
    for name in ("one.py", "two.py"):  # an error is never kept: each caller sees its own name
        with pytest.raises(SyntaxError) as caught:
            parsed.parse("def (:\n", name)
        assert caught.value.filename == name
