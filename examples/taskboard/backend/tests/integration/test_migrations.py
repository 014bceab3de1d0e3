"""Alembic migrations: they apply and revert cleanly, and produce the schema the models expect."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from src.models.task import TaskCreate
from src.services import task_service

BACKEND_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point ``DATABASE_URL`` (which alembic/env.py reads) at a fresh SQLite file in tmp_path."""
    url = f"sqlite:///{tmp_path / 'migrations.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def alembic_config() -> Config:
    """The project's alembic.ini, with logging left to pytest."""
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture
def engine(db_url: str) -> Engine:
    """An engine on the migration test database (shadows the in-memory one)."""
    return create_engine(db_url)


def test_upgrade_creates_the_task_table_and_index(alembic_config: Config, engine: Engine) -> None:
    command.upgrade(alembic_config, "head")
    inspector = inspect(engine)
    columns = {c["name"]: c["nullable"] for c in inspector.get_columns("task")}
    assert columns == {
        "id": False,
        "user_id": False,
        "title": False,
        "description": True,
        "completed": False,
        "created_at": False,
        "updated_at": False,
    }
    assert [i["name"] for i in inspector.get_indexes("task")] == ["ix_task_user_id_created_at"]


def test_downgrade_to_base_removes_everything_and_upgrade_again_works(
    alembic_config: Config, engine: Engine
) -> None:
    command.upgrade(alembic_config, "head")
    command.downgrade(alembic_config, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    command.upgrade(alembic_config, "head")
    assert "task" in inspect(engine).get_table_names()


def test_migrated_schema_matches_the_models(alembic_config: Config, engine: Engine) -> None:
    command.upgrade(alembic_config, "head")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_service_works_on_the_migrated_database(alembic_config: Config, engine: Engine) -> None:
    command.upgrade(alembic_config, "head")
    with Session(engine) as session:
        task_service.create_task(session, "alice", TaskCreate(title="persisted"))
    with Session(engine) as session:
        items, total = task_service.list_tasks(session, "alice", limit=50, offset=0)
    assert total == 1
    assert items[0].title == "persisted"
