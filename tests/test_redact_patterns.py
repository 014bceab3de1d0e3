"""The credential shapes find exactly what their plain `\\b…` forms find: they were only rewritten so
that `re` can skip ahead to their literal (the reference forms below are the originals)."""

from __future__ import annotations

import random
import re

import pytest

from bot.redact import NAMED_TOKEN_PATTERNS, REDACTED, may_match, redact

REFERENCE = (
    r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b",
    r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b",
    r"\bsk-ant-[A-Za-z0-9_\-]{16,}",
    r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
    r"(?i)\bx-access-token:[^@\s]+",
)
# Pieces that put a token next to every kind of neighbour: word characters, `_`, `-`, `.`,
# punctuation, whitespace, non-ASCII letters (a word character to `re`) and line breaks.
PIECES = (
    "ghp_", "gho_", "ghs_", "github_pat_", "sk-ant-", "eyJ", "AKIA", "ASIA", "x-access-token:",
    "X-Access-Token:", "x-ACCESS-token:",
    "x-acce\u017fs-token:", "X-ACCESS-TO\u212aEN:",  # Unicode case folding: long s, Kelvin sign
    "A" * 16, "a1B2c3D4" * 5, "_", "-", ".", " ", "\n", "x", "é", "@", "/", ":",
    "Z9", "0", "token=", "`", "(", ")", "eyJhbGciOiJ.", "eyJzdWIiOiJ.", "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----",
)  # fmt: skip


def spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


@pytest.mark.parametrize("index", range(len(REFERENCE)), ids=[name for name, _ in NAMED_TOKEN_PATTERNS])
def test_each_shape_matches_what_its_reference_form_matches(index: int) -> None:
    ours, reference = NAMED_TOKEN_PATTERNS[index][1], re.compile(REFERENCE[index])
    rng = random.Random(index)
    found = 0
    for _ in range(3000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
        assert spans(ours, text) == spans(reference, text), text
        found += bool(spans(reference, text))
    # the texts reach the patterns at all (a generator that never produced a match tests nothing)
    assert found > 0


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("token ghp_" + "a" * 36, True),
        ("xghp_" + "a" * 36, False),  # no word boundary before the literal
        ("_ghp_" + "a" * 36, False),
        ("éAKIA" + "B" * 16, False),
        ("(AKIA" + "B" * 16 + ")", True),
        ("key:sk-ant-" + "k" * 16, True),
        ("ask-ant-" + "k" * 16, False),
    ],
)
def test_the_boundary_before_the_literal_still_counts(text: str, matched: bool) -> None:
    assert any(p.search(text) for _, p in NAMED_TOKEN_PATTERNS) is matched


@pytest.mark.parametrize("index", range(len(REFERENCE)), ids=[name for name, _ in NAMED_TOKEN_PATTERNS])
def test_a_text_is_only_skipped_when_its_shape_cannot_match(index: int) -> None:
    """may_match lets Redactor and speckit.secrets skip a shape; a skipped text must hold no match."""
    pattern = NAMED_TOKEN_PATTERNS[index][1]
    rng = random.Random(1000 + index)
    skipped = 0
    for _ in range(3000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
        if not may_match(pattern, text):
            skipped += 1
            assert pattern.search(text) is None, text
    # the git-credential shape is the one with a required part: some texts are ruled out
    assert skipped > 0 if index == len(REFERENCE) - 1 else skipped == 0


def test_redaction_still_covers_every_case_of_the_credential() -> None:
    for user in ("x-access-token", "X-ACCESS-TOKEN", "x-acce\u017fs-token", "X-ACCESS-TO\u212aEN"):
        assert redact(f"https://{user}:s3cretvalue@github.com/o/r") == f"https://{REDACTED}@github.com/o/r"
