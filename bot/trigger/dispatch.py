"""Who may trigger Specship: bots refused unless allow-listed, humans need write permission via the API."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

WRITE_ROLES = frozenset({"admin", "maintain", "write"})

REFUSED_PERMISSION = (
    "@{login} Specship only acts for people with write access to this repository "
    "(your permission is `{permission}`). Ask a maintainer to add the `{label}` label "
    "or to comment the command."
)
REFUSED_BOT_REASON = "{login} is a bot not in allowed-bots"
REFUSED_BOT = (
    "Specship ignores `{login}`: bots may not trigger it unless they are listed in the "
    "`allowed-bots` setting."
)


@dataclass(frozen=True)
class Decision:
    """Whether to act, and the one message to post when not (None: refuse silently)."""

    allowed: bool
    reason: str
    comment: str | None = None


def is_bot(login: str, account_type: str | None) -> bool:
    """A GitHub App or a machine account; `[bot]` logins are bots whatever the payload says."""
    return (account_type or "").lower() == "bot" or login.lower().endswith("[bot]")


def authorize(
    actors: Mapping[str, str | None],
    permission: Callable[[str], str],
    *,
    allowed_bots: Collection[str],
    label: str = "specship",
) -> Decision:
    """Every actor (login -> account type, None when unknown) must be an allowed bot or a writer.

    Bots are refused before any API call; humans are checked with the collaborator-permission
    API, never with the payload's author_association. A login the API says is not a user
    (permission "bot") is refused like a bot.
    """
    allowed = {b.lower() for b in allowed_bots}
    logins = [login for login in dict.fromkeys(actors) if login]
    for login in logins:
        if is_bot(login, actors[login]) and login.lower() not in allowed:
            return Decision(False, REFUSED_BOT_REASON.format(login=login), REFUSED_BOT.format(login=login))
    for login in logins:
        if login.lower() in allowed:
            continue
        level = permission(login)
        if level == "bot":
            return Decision(False, f"{login} is not a user account", REFUSED_BOT.format(login=login))
        if level not in WRITE_ROLES:
            return Decision(
                False,
                f"{login} has {level} permission, write is required",
                REFUSED_PERMISSION.format(login=login, permission=level, label=label),
            )
    return Decision(True, "every actor has write permission")
