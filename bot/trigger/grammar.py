"""The `/specship <verb> [text]` command grammar of comments: one parsed Command, or none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.trigger.payload import safe

Verb = Literal["revise", "retry", "check", "answer", "help"]

VERBS: tuple[Verb, ...] = ("revise", "retry", "check", "answer", "help")
TEXT_VERBS = frozenset({"revise", "answer"})


@dataclass(frozen=True)
class Command:
    """A parsed command line: the verb, its text, and a note when it fell back to help."""

    verb: Verb
    text: str
    note: str = ""


# The grammar: the first non-empty line, left-stripped, is `<prefix> <verb> [text]`. Prefix and verb
# are case-sensitive. `revise`/`answer` take the rest of that line plus the following lines and fall
# back to help (with a note) when that is empty; the other verbs take no text on their line (else
# help with a note), and lines after theirs are commentary. An unknown verb is help with a note, so
# a typo gets an answer rather than silence; a body not starting with the prefix is no command.
def parse_command(body: str, prefix: str = "/specship") -> Command | None:
    """The command in a comment body, or None when its first non-empty line is not one."""
    lines = body.splitlines()
    index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if index is None:
        return None
    first = lines[index].lstrip()
    # Quoted lines ("> /specship retry") and code fences start with another character,
    # so they never match the prefix; nothing after them is searched.
    if not first.startswith(prefix):
        return None
    rest = first[len(prefix) :]
    if rest and not rest[0].isspace():
        return None  # "/specshipper", "/specship-x"
    words = rest.split(maxsplit=1)
    if not words:
        return Command("help", "", "no command given")
    word, same_line = words[0], (words[1].strip() if len(words) > 1 else "")
    if word not in VERBS:
        return Command("help", "", f"unknown command {safe(word, 30)}")
    verb: Verb = word
    if verb in TEXT_VERBS:
        text = "\n".join([same_line, *lines[index + 1 :]]).strip()
        if not text:
            return Command("help", "", f"'{verb}' needs text: {prefix} {verb} <text>")
        return Command(verb, text)
    if same_line:
        return Command("help", "", f"'{verb}' takes no text")
    return Command(verb, "")
