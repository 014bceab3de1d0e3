"""Unit tests for ``task_service``: behaviour and per-user scoping, without HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session

from src.models.task import Task, TaskCreate, TaskUpdate
from src.services import task_service
from src.services.task_service import TaskNotFoundError
from tests.conftest import FakeClock


def _create(session: Session, user_id: str, title: str, **fields: object) -> Task:
    return task_service.create_task(
        session, user_id, TaskCreate.model_validate({"title": title, **fields})
    )


def test_create_stores_an_open_task_with_timestamps(session: Session, clock: FakeClock) -> None:
    task = _create(session, "alice", "Buy milk", description="2 litres")
    assert task.id is not None
    assert (task.user_id, task.title, task.description) == ("alice", "Buy milk", "2 litres")
    assert task.completed is False
    assert task.created_at == task.updated_at
    assert task.created_at.replace(tzinfo=None) == clock.now.replace(tzinfo=None)


def test_list_is_newest_first_and_paged(session: Session, clock: FakeClock) -> None:
    for title in ("one", "two", "three"):
        _create(session, "alice", title)
        clock.advance(seconds=1)
    items, total = task_service.list_tasks(session, "alice", limit=2, offset=0)
    assert [t.title for t in items] == ["three", "two"]
    assert total == 3
    items, total = task_service.list_tasks(session, "alice", limit=2, offset=2)
    assert [t.title for t in items] == ["one"]
    assert total == 3


def test_list_breaks_timestamp_ties_by_id(session: Session, clock: FakeClock) -> None:
    first, second = _create(session, "alice", "a"), _create(session, "alice", "b")
    items, _ = task_service.list_tasks(session, "alice", limit=50, offset=0)
    assert [t.id for t in items] == [second.id, first.id]


def test_list_past_the_end_is_empty(session: Session) -> None:
    _create(session, "alice", "only")
    assert task_service.list_tasks(session, "alice", limit=50, offset=10) == ([], 1)


def test_list_only_counts_the_callers_tasks(session: Session) -> None:
    _create(session, "alice", "mine")
    _create(session, "bob", "theirs")
    items, total = task_service.list_tasks(session, "alice", limit=50, offset=0)
    assert [t.title for t in items] == ["mine"]
    assert total == 1


def test_get_returns_own_task(session: Session) -> None:
    task = _create(session, "alice", "mine")
    assert task.id is not None
    assert task_service.get_task(session, "alice", task.id).title == "mine"


FOREIGN_OPERATIONS: dict[str, Callable[[Session, int], object]] = {
    "get": lambda session, task_id: task_service.get_task(session, "alice", task_id),
    "update": lambda session, task_id: task_service.update_task(
        session, "alice", task_id, TaskUpdate.model_validate({"title": "x"})
    ),
    "delete": lambda session, task_id: task_service.delete_task(session, "alice", task_id),
}


@pytest.mark.parametrize("operation", sorted(FOREIGN_OPERATIONS))
@pytest.mark.parametrize("whose", ["bob's", "missing"])
def test_foreign_and_missing_tasks_raise_not_found(
    session: Session, operation: str, whose: str
) -> None:
    task = _create(session, "bob", "theirs")
    assert task.id is not None
    task_id = task.id if whose == "bob's" else 9999
    with pytest.raises(TaskNotFoundError):
        FOREIGN_OPERATIONS[operation](session, task_id)
    session.refresh(task)
    assert task.title == "theirs"


def test_update_changes_only_supplied_fields_and_bumps_updated_at(
    session: Session, clock: FakeClock
) -> None:
    task = _create(session, "alice", "title", description="old")
    assert task.id is not None
    created_at = task.created_at
    later = clock.advance(minutes=5)
    updated = task_service.update_task(
        session, "alice", task.id, TaskUpdate.model_validate({"completed": True})
    )
    assert (updated.title, updated.description, updated.completed) == ("title", "old", True)
    assert updated.created_at == created_at
    assert updated.updated_at.replace(tzinfo=None) == later.replace(tzinfo=None)


def test_update_with_null_description_clears_it(session: Session) -> None:
    task = _create(session, "alice", "title", description="old")
    assert task.id is not None
    updated = task_service.update_task(
        session, "alice", task.id, TaskUpdate.model_validate({"description": None})
    )
    assert updated.description is None


def test_delete_is_permanent(session: Session) -> None:
    task = _create(session, "alice", "gone soon")
    assert task.id is not None
    task_service.delete_task(session, "alice", task.id)
    with pytest.raises(TaskNotFoundError):
        task_service.get_task(session, "alice", task.id)
    with pytest.raises(TaskNotFoundError):
        task_service.delete_task(session, "alice", task.id)
