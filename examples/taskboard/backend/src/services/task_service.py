"""Task use cases. Every function takes the owner's ``user_id`` and filters on it (FR-009).

Services know nothing about HTTP: a task that is missing *or* owned by someone else raises
``TaskNotFoundError``, and the router turns that into one identical 404.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from src.models.task import Task, TaskCreate, TaskUpdate, utc_now


class TaskNotFoundError(LookupError):
    """No task with this id belongs to this user (it may not exist, or be someone else's)."""


def create_task(session: Session, user_id: str, data: TaskCreate) -> Task:
    """Store a new, not-completed task owned by ``user_id`` and return it (FR-002, FR-003)."""
    now = utc_now()
    task = Task.model_validate(
        data, update={"user_id": user_id, "completed": False, "created_at": now, "updated_at": now}
    )
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


def list_tasks(
    session: Session, user_id: str, *, limit: int, offset: int
) -> tuple[list[Task], int]:
    """Return one page of the user's tasks, newest first, and how many they own (FR-004).

    ``id`` breaks ties between tasks created in the same instant so pages never overlap.
    """
    owned = col(Task.user_id) == user_id
    statement = (
        select(Task)
        .where(owned)
        .order_by(col(Task.created_at).desc(), col(Task.id).desc())
        .offset(offset)
        .limit(limit)
    )
    items = list(session.exec(statement).all())
    total = session.exec(select(func.count()).select_from(Task).where(owned)).one()
    return items, total


def get_task(session: Session, user_id: str, task_id: int) -> Task:
    """Return the user's task ``task_id`` or raise ``TaskNotFoundError`` (FR-005, FR-009)."""
    statement = select(Task).where(col(Task.id) == task_id, col(Task.user_id) == user_id)
    task = session.exec(statement).first()
    if task is None:
        raise TaskNotFoundError(task_id)
    return task


def update_task(session: Session, user_id: str, task_id: int, data: TaskUpdate) -> Task:
    """Apply the supplied fields to the user's task and bump ``updated_at`` (FR-006, FR-007).

    Concurrent updates are not merged: the last commit wins, as the spec allows.
    """
    task = get_task(session, user_id, task_id)
    task.sqlmodel_update(data.model_dump(exclude_unset=True))
    task.updated_at = utc_now()
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


def delete_task(session: Session, user_id: str, task_id: int) -> None:
    """Permanently delete the user's task (FR-008); there is no undo."""
    task = get_task(session, user_id, task_id)
    session.delete(task)
    session.commit()
