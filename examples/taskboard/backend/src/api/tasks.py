"""The ``/api/tasks`` router (contracts/openapi.yaml of feature 001-user-tasks).

Every handler takes ``CurrentUserId``, so no route in this module is reachable without a
verified JWT, and passes that id to the service layer, which scopes every query by it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel
from sqlmodel import Session

from src.auth import get_current_user_id
from src.db import get_session
from src.models.task import Task, TaskCreate, TaskListResponse, TaskRead, TaskUpdate
from src.services import task_service
from src.services.task_service import TaskNotFoundError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
TASK_NOT_FOUND = "Task not found"


class ErrorDetail(BaseModel):
    """Body of every 401 and 404 response."""

    detail: str


UNAUTHORIZED: dict[str, Any] = {
    "model": ErrorDetail,
    "description": "Missing, malformed, expired, or wrongly signed token (FR-001)",
    "headers": {
        "WWW-Authenticate": {
            "description": "Authentication scheme to use",
            "schema": {"type": "string", "example": "Bearer"},
        }
    },
}
NOT_FOUND: dict[str, Any] = {
    "model": ErrorDetail,
    "description": "Task does not exist or is owned by another user (FR-009)",
}

CurrentUserId = Annotated[str, Depends(get_current_user_id)]
SessionDep = Annotated[Session, Depends(get_session)]
TaskId = Annotated[int, Path(ge=1, description="Id of one of the caller's tasks")]

router = APIRouter(prefix="/tasks", tags=["tasks"], responses={401: UNAUTHORIZED})


def _not_found() -> HTTPException:
    """The one 404 used for missing and foreign tasks alike, so they cannot be told apart."""
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=TASK_NOT_FOUND)


@router.get("", operation_id="listTasks", summary="List the caller's tasks, newest first")
def list_tasks(
    user_id: CurrentUserId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TaskListResponse:
    """Return one page of the caller's tasks, newest first (FR-004).

    `total` counts all of the caller's tasks; a page past the end is empty, not an error.
    """
    tasks, total = task_service.list_tasks(session, user_id, limit=limit, offset=offset)
    items = [TaskRead.model_validate(task) for task in tasks]
    return TaskListResponse(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "",
    operation_id="createTask",
    summary="Create a task owned by the caller",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskRead,
)
def create_task(user_id: CurrentUserId, session: SessionDep, body: TaskCreate) -> Task:
    """Create a not-completed task owned by the caller (FR-002, FR-003)."""
    return task_service.create_task(session, user_id, body)


@router.get(
    "/{task_id}",
    operation_id="getTask",
    summary="Get one of the caller's tasks",
    response_model=TaskRead,
    responses={404: NOT_FOUND},
)
def get_task(user_id: CurrentUserId, session: SessionDep, task_id: TaskId) -> Task:
    """Return one of the caller's tasks; 404 if it is missing or not theirs (FR-005, FR-009)."""
    try:
        return task_service.get_task(session, user_id, task_id)
    except TaskNotFoundError:
        raise _not_found() from None


@router.patch(
    "/{task_id}",
    operation_id="updateTask",
    summary="Partially update one of the caller's tasks",
    response_model=TaskRead,
    responses={404: NOT_FOUND},
)
def update_task(
    user_id: CurrentUserId, session: SessionDep, task_id: TaskId, body: TaskUpdate
) -> Task:
    """Change title, description and/or completion; omitted fields stay as they are.

    FR-006, FR-007, FR-009: 404 if the task is missing or not the caller's.
    """
    try:
        return task_service.update_task(session, user_id, task_id, body)
    except TaskNotFoundError:
        raise _not_found() from None


@router.delete(
    "/{task_id}",
    operation_id="deleteTask",
    summary="Permanently delete one of the caller's tasks",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: NOT_FOUND},
)
def delete_task(user_id: CurrentUserId, session: SessionDep, task_id: TaskId) -> None:
    """Delete one of the caller's tasks for good (FR-008, FR-009); 404 if missing or not theirs."""
    try:
        task_service.delete_task(session, user_id, task_id)
    except TaskNotFoundError:
        raise _not_found() from None
