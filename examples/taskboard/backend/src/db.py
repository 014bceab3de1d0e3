"""Database engine and the per-request session dependency."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from src.config import get_settings


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """Return the process-wide engine for ``DATABASE_URL``, created on first use."""
    url = get_settings().database_url
    # FastAPI runs sync dependencies and handlers in a thread pool, so a SQLite
    # connection may be used by a thread other than the one that opened it.
    connect_args = {"check_same_thread": False} if url.startswith("sqlite") else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def get_session() -> Iterator[Session]:
    """Yield one SQLModel session per request and close it afterwards."""
    with Session(get_engine()) as session:
        yield session
