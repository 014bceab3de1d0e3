"""Specship's own identities (logins and commit emails), so its own events never start a run."""

from __future__ import annotations

import re
from collections.abc import Collection

_NOREPLY = re.compile(r"(?:\d+\+)?(?P<login>[^@\s]+)@users\.noreply\.github\.com")


DEFAULT_BOT_LOGINS = ("specship[bot]", "github-actions[bot]")


DEFAULT_BOT_EMAILS = (
    "specship[bot]@users.noreply.github.com",
    "41898282+github-actions[bot]@users.noreply.github.com",
)


class Bots:
    """Specship's own identities (logins and commit emails), compared case-insensitively."""

    def __init__(self, logins: Collection[str], emails: Collection[str]) -> None:
        self.logins = {login.casefold() for login in logins}
        self.emails = {email.casefold() for email in emails}

    def login(self, login: str | None) -> bool:
        return login is not None and login.casefold() in self.logins

    def identity(self, username: str | None, email: str | None) -> bool:
        if self.login(username):
            return True
        if email is None:
            return False
        match = _NOREPLY.fullmatch(email.casefold())
        return email.casefold() in self.emails or bool(match and self.login(match["login"]))
