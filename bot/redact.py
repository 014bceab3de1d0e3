"""Redaction of token-shaped strings and known secret values from anything Specship prints or posts."""

from __future__ import annotations

import base64
import re
import urllib.parse

REDACTED = "[REDACTED]"

# Shapes of credentials that must never leave the orchestrator, whoever wrote them, by what they are.
# Each starts with its literal and checks the word boundary before it with a lookbehind: the same
# matches as a leading \b, but `re` can then skip to the literal instead of trying every position
# (15x faster on a page of text; everything Specship prints goes through these). The git credential
# is case-insensitive after its first letter only: a leading (?i) would stop `re` skipping ahead.
_GIT_CREDENTIAL = re.compile(r"[xX](?<=\b[xX])(?i:-access-token:)[^@\s]+")
NAMED_TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a GitHub token", re.compile(r"gh(?<=\bgh)[pousr]_[A-Za-z0-9]{36,255}\b")),
    ("a GitHub token", re.compile(r"github_pat_(?<=\bgithub_pat_)[A-Za-z0-9_]{22,255}\b")),
    ("an Anthropic API key", re.compile(r"sk-ant-(?<=\bsk-ant-)[A-Za-z0-9_\-]{16,}")),
    (
        "a JSON Web Token",
        re.compile(r"eyJ(?<=\beyJ)[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ),
    ("an AWS access key", re.compile(r"(?:AKIA|ASIA)(?<=\b....)[A-Z0-9]{16}\b")),
    (
        "a private key",
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
    ),
    ("a git credential", _GIT_CREDENTIAL),
)
TOKEN_PATTERNS: tuple[re.Pattern[str], ...] = tuple(pattern for _, pattern in NAMED_TOKEN_PATTERNS)
# The git-credential shape starts with a letter set, which `re` tries position by position (~6 ns a
# byte, 7x any other shape); every match holds `-access-token:`, which starts with a literal `re`
# skips ahead to, so a text without that part is not searched for the whole shape.
_REQUIRED_PART = {_GIT_CREDENTIAL: re.compile(r"(?i:-access-token:)")}


def may_match(pattern: re.Pattern[str], text: str) -> bool:
    """False only when `pattern` (one of TOKEN_PATTERNS) cannot match anywhere in `text`."""
    part = _REQUIRED_PART.get(pattern)
    return part is None or part.search(text) is not None


_MIN_SECRET_LENGTH = 8


def secret_forms(secret: str) -> list[str]:
    """Every form in which a secret can leak: raw, stripped, URL-quoted and as git auth headers."""
    value = secret.strip()
    if len(value) < _MIN_SECRET_LENGTH:
        return []
    forms = {value, secret.rstrip("\r\n"), urllib.parse.quote(value, safe="")}
    for user in ("x-access-token", "git", "oauth2"):
        forms.add(base64.b64encode(f"{user}:{value}".encode()).decode())
    forms.add(base64.b64encode(value.encode()).decode())
    return sorted((f for f in forms if len(f) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


class Redactor:
    """Replaces registered secrets (in all their forms) and token-shaped strings with a marker."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        self._forms: list[str] = []
        for secret in secrets or []:
            self.add(secret)

    def add(self, secret: str) -> list[str]:
        """Register a secret; returns the new forms so the caller can mask them in the log."""
        new = [form for form in secret_forms(secret) if form not in self._forms]
        self._forms.extend(new)
        self._forms.sort(key=len, reverse=True)
        return new

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, REDACTED)
        for pattern in TOKEN_PATTERNS:
            if may_match(pattern, text):
                text = pattern.sub(REDACTED, text)
        return text

    def contains_secret(self, text: str) -> bool:
        """True when the text holds a registered secret form (used to fail closed before posting)."""
        return any(form in text for form in self._forms)


def redact(text: str) -> str:
    """Redact token-shaped strings only (no registered secrets)."""
    return Redactor()(text)
