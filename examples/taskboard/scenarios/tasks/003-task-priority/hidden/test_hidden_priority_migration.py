"""Held-out acceptance test for 003-task-priority US1-5: a task stored before the feature reads as normal.

It migrates a real SQLite file with the project's own Alembic setup: the base schema (revision
0001, feature 001), a row written the way 001 stores it, then `head`, whatever the new revision
is called. This module's `engine` fixture shadows the in-memory one, so the app reads that file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

BACKEND_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A SQLite file at revision 0001 holding one 001-era task of alice's, then upgraded to head."""
    url = f"sqlite:///{tmp_path / 'before-003.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    config = Config(str(BACKEND_DIR / "alembic.ini"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "0001")
    engine = create_engine(url, connect_args={"check_same_thread": False})
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO task (id, title, description, user_id, completed, created_at, updated_at)"
                " VALUES (7, 'from before', 'as it was', 'alice', 1, :at, :at)"
            ),
            {"at": "2026-01-07 09:00:00.000000"},
        )
    command.upgrade(config, "head")
    return engine


def test_us1_5_a_task_created_before_the_feature_reads_back_normal(
    client: TestClient, alice: dict[str, str]
) -> None:
    """US1-5: a task created before this feature is returned unchanged, with priority "normal"."""
    response = client.get("/api/tasks/7", headers=alice)
    assert response.status_code == 200, response.text
    task = response.json()
    assert task["priority"] == "normal"
    assert (task["title"], task["description"], task["completed"]) == ("from before", "as it was", True)
    assert task["created_at"] == task["updated_at"]
