"""Authentication: the ``get_current_user_id`` dependency (FR-001).

Every ``/api/tasks`` route depends on it. The caller's identity is the ``sub`` claim of a
Bearer JWT verified with the shared ``JWT_SECRET``; nothing else in a request can name a user.
"""

from __future__ import annotations

from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from src.config import Settings, get_settings

USER_ID_MAX_LENGTH = 64  # matches the task.user_id column

# auto_error=False: a missing header must produce the same 401 + WWW-Authenticate as a bad
# token, instead of the scheme's own response. The scheme name matches the contract's.
bearer_scheme = HTTPBearer(
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="HS256 JWT whose `sub` claim identifies the user",
    auto_error=False,
)


def _unauthorized(detail: str) -> HTTPException:
    """Build the 401 returned for every authentication failure (RFC 6750 challenge header)."""
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


def decode_user_id(token: str, settings: Settings) -> str:
    """Verify ``token`` and return its ``sub`` claim, or raise a 401 ``HTTPException``.

    The algorithm list is pinned to the configured HMAC algorithm, so tokens signed with
    ``none`` or any other algorithm are rejected. ``exp`` and ``sub`` are mandatory.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["exp", "sub"]},
        )
    except jwt.InvalidTokenError:
        # The reason (expired, bad signature, ...) stays server-side: clients only learn
        # that the token was not accepted.
        raise _unauthorized("Invalid or expired token") from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > USER_ID_MAX_LENGTH:
        raise _unauthorized("Invalid or expired token")
    return subject


def get_current_user_id(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> str:
    """Return the authenticated user's id (JWT ``sub``); 401 when the token is absent or invalid."""
    if credentials is None:
        raise _unauthorized("Not authenticated")
    return decode_user_id(credentials.credentials, settings)
