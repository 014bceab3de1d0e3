"""Unit tests for ``get_current_user_id`` (T010): valid, missing, malformed, expired, forged."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from fastapi import HTTPException
from fastapi.security import HTTPAuthorizationCredentials

from src.auth import get_current_user_id
from src.config import get_settings
from tests.conftest import TEST_JWT_ALGORITHM, TEST_JWT_SECRET, TokenFactory

# pragma: allowlist nextline secret
OTHER_SECRET = "another-secret-that-the-server-does-not-know-".ljust(64, "y")


def _call(token: str | None) -> str:
    """Invoke the dependency the way FastAPI would, with the test settings."""
    credentials = (
        None if token is None else HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    )
    return get_current_user_id(credentials, get_settings())


def _assert_401(token: str | None) -> HTTPException:
    with pytest.raises(HTTPException) as caught:
        _call(token)
    assert caught.value.status_code == 401
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}
    return caught.value


def _unsigned_token(claims: dict[str, object]) -> str:
    """Build an ``alg: none`` token by hand (PyJWT refuses to verify these, as it should)."""

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_valid_token_returns_sub(make_token: TokenFactory) -> None:
    assert _call(make_token("user-123")) == "user-123"


def test_missing_credentials_are_rejected() -> None:
    assert _assert_401(None).detail == "Not authenticated"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "Bearer x.y.z"])
def test_malformed_token_is_rejected(token: str) -> None:
    assert _assert_401(token).detail == "Invalid or expired token"


def test_expired_token_is_rejected(make_token: TokenFactory) -> None:
    _assert_401(make_token(expires_in=timedelta(seconds=-5)))


def test_token_signed_with_another_secret_is_rejected(make_token: TokenFactory) -> None:
    _assert_401(make_token(secret=OTHER_SECRET))


def test_token_with_unpinned_algorithm_is_rejected(make_token: TokenFactory) -> None:
    _assert_401(make_token(algorithm="HS512"))


def test_unsigned_token_is_rejected() -> None:
    _assert_401(_unsigned_token({"sub": "alice", "exp": 4102444800}))


def test_token_without_sub_is_rejected(make_token: TokenFactory) -> None:
    _assert_401(make_token(sub=None))


def test_token_without_exp_is_rejected() -> None:
    _assert_401(jwt.encode({"sub": "alice"}, TEST_JWT_SECRET, algorithm=TEST_JWT_ALGORITHM))


@pytest.mark.parametrize("sub", ["", "   ", "x" * 65])
def test_unusable_sub_is_rejected(make_token: TokenFactory, sub: str) -> None:
    _assert_401(make_token(sub))


def test_error_detail_does_not_reveal_the_reason(make_token: TokenFactory) -> None:
    expired = _assert_401(make_token(expires_in=timedelta(seconds=-5)))
    forged = _assert_401(make_token(secret=OTHER_SECRET))
    assert expired.detail == forged.detail
