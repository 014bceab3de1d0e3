"""Shared fixtures: test settings, in-memory SQLite, real signed tokens, an HTTP client.

Tests never read the developer's environment: every setting is set here with monkeypatch,
and the database lives in memory, so nothing is written to the source tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from src.config import get_settings
from src.db import get_engine, get_session
from src.main import create_app

# Test-only values; production reads them from the environment (see .env.example).
# 64 bytes, so tests may also sign HS512 tokens without key-length warnings.
# pragma: allowlist nextline secret
TEST_JWT_SECRET = "taskboard-test-secret-not-for-production-use-".ljust(64, "x")
TEST_JWT_ALGORITHM = "HS256"

TokenFactory = Callable[..., str]
HeadersFactory = Callable[[str], dict[str, str]]


@pytest.fixture(autouse=True)
def test_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Give every test the same known settings and drop anything cached from other tests."""
    monkeypatch.setenv("JWT_SECRET", TEST_JWT_SECRET)
    monkeypatch.setenv("JWT_ALGORITHM", TEST_JWT_ALGORITHM)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def engine() -> Iterator[Engine]:
    """An empty in-memory database; StaticPool makes every session share one connection."""
    engine = create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database, for unit tests of the service layer."""
    with Session(engine) as session:
        yield session


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    """A fresh application whose ``get_session`` uses the test database."""

    def _test_session() -> Iterator[Session]:
        with Session(engine) as session:
            yield session

    app = create_app()
    app.dependency_overrides[get_session] = _test_session
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client; entering it runs the app's startup checks."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def make_token() -> TokenFactory:
    """Sign a JWT the way the identity provider would; keyword overrides build bad tokens."""

    def _make_token(
        sub: str | None = "alice",
        *,
        expires_in: timedelta = timedelta(minutes=15),
        secret: str = TEST_JWT_SECRET,
        algorithm: str = TEST_JWT_ALGORITHM,
        **extra_claims: Any,
    ) -> str:
        claims: dict[str, Any] = {"exp": datetime.now(UTC) + expires_in, **extra_claims}
        if sub is not None:
            claims["sub"] = sub
        return jwt.encode(claims, secret, algorithm=algorithm)

    return _make_token


@pytest.fixture
def auth_headers(make_token: TokenFactory) -> HeadersFactory:
    """Return ``Authorization`` headers carrying a valid token for the given user id."""

    def _auth_headers(user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(user_id)}"}

    return _auth_headers


@pytest.fixture
def alice(auth_headers: HeadersFactory) -> dict[str, str]:
    """Headers for user A."""
    return auth_headers("alice")


@pytest.fixture
def bob(auth_headers: HeadersFactory) -> dict[str, str]:
    """Headers for user B."""
    return auth_headers("bob")


class FakeClock:
    """A controllable replacement for ``utc_now`` so timestamp assertions are exact."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move time forward by ``timedelta(**delta)`` and return the new time."""
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Freeze the service layer's clock at a known instant."""
    fake = FakeClock()
    monkeypatch.setattr("src.services.task_service.utc_now", fake)
    return fake
