"""Credentials pasted into a feature's documents: found with file and line, redacted before the model."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from bot.redact import NAMED_TOKEN_PATTERNS, REDACTED, may_match
from bot.speckit.feature import Feature, parse_folder
from bot.speckit.model import Problem
from bot.speckit.project import parse_constitution, standards

ROTATE_FIX = (
    "Remove it from the file and rotate it (it is in the repository's history). Specship "
    "redacts it from the prompt, but the file itself stays readable in the checkout."
)


@dataclass(frozen=True)
class Found:
    """One credential-shaped string: where it is, what it looks like, and the value to mask."""

    file: str
    line: int
    kind: str
    value: str

    def problem(self) -> Problem:
        return Problem(
            self.file, self.line, f"the file holds what looks like {self.kind}", ROTATE_FIX, "secret"
        )


def scan(text: str, path: str) -> list[Found]:
    """Credential shapes in one text (the same shapes Specship redacts from everything it prints)."""
    found = []
    for kind, pattern in NAMED_TOKEN_PATTERNS:
        if not may_match(pattern, text):
            continue
        for match in pattern.finditer(text):
            found.append(Found(path, text.count("\n", 0, match.start()) + 1, kind, match.group(0)))
    return sorted(found, key=lambda f: (f.file, f.line))


def _texts(feature: Feature) -> list[tuple[str, str]]:
    texts = [
        (feature.file(rel), data.decode("utf-8", "replace")) for rel, data in sorted(feature.raw.items())
    ]
    if feature.constitution is not None:
        texts.append((feature.constitution.path, feature.constitution.text))
    if feature.standards is not None:
        texts.append((feature.standards.path, feature.standards.text))
    return texts


def find_secrets(feature: Feature) -> list[Found]:
    """Every credential in the documents that go to the model: the feature's files, the
    constitution and the standards file."""
    return [hit for path, text in _texts(feature) for hit in scan(text, path)]


def redact_text(text: str, values: list[str]) -> str:
    """The text with each value replaced; a multi-line value keeps its line breaks, so every
    later line keeps its number."""
    for value in sorted(set(values), key=len, reverse=True):
        text = text.replace(value, REDACTED + "\n" * value.count("\n"))
    return text


def scrub(feature: Feature) -> tuple[Feature, list[Found]]:
    """The feature re-read from redacted copies of its documents, and what was redacted."""
    hits = find_secrets(feature)
    if not hits:
        return feature, []
    values = [hit.value for hit in hits]
    raw = {
        rel: redact_text(data.decode("utf-8", "replace"), values).encode()
        for rel, data in feature.raw.items()
    }
    constitution = feature.constitution
    if constitution is not None:
        constitution = parse_constitution(redact_text(constitution.text, values), constitution.path)
    standards_file = feature.standards
    if standards_file is not None:
        standards_file = standards(standards_file.path, redact_text(standards_file.text, values))
    parsed = parse_folder(
        feature.path, feature.rev, raw, constitution=constitution, standards_file=standards_file
    )
    clean = dataclasses.replace(
        parsed,
        files=feature.files,
        problems=feature.problems,
        specs_dir=feature.specs_dir,
        layout=feature.layout,
        redacted=tuple(hit.problem() for hit in hits),
    )
    return clean, hits
