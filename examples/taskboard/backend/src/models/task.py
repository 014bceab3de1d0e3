"""The ``task`` table and the request/response models built on it (data-model.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Self

from pydantic import ConfigDict, field_validator, model_validator
from sqlalchemy import DateTime, Index
from sqlmodel import Field, SQLModel, col

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 1000
USER_ID_MAX_LENGTH = 64
TITLE_DOC = "1-200 characters; leading and trailing whitespace is trimmed before validation"


def utc_now() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def _strip(value: object) -> object:
    """Trim strings so that a title of only spaces fails the minimum-length check (FR-002)."""
    return value.strip() if isinstance(value, str) else value


class TaskBase(SQLModel):
    """Fields a client may set when creating a task."""

    title: str = Field(min_length=1, max_length=TITLE_MAX_LENGTH, description=TITLE_DOC)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX_LENGTH)

    _strip_title = field_validator("title", mode="before")(_strip)


class Task(TaskBase, table=True):
    """A persisted task. ``user_id`` is the owner's JWT ``sub`` and never comes from a body."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=USER_ID_MAX_LENGTH)
    completed: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=DateTime(timezone=True))


# Serves the only list query (FR-004): WHERE user_id = ? ORDER BY created_at DESC.
Index("ix_task_user_id_created_at", col(Task.user_id), col(Task.created_at).desc())


class TaskCreate(TaskBase):
    """Body of ``POST /api/tasks``. Unknown fields (including ``user_id``) are rejected."""

    # SQLModel annotates model_config with its own TypedDict; a plain ConfigDict is what
    # Pydantic reads at runtime, hence the narrow ignore.
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


def _patch_schema(schema: dict[str, Any]) -> None:
    """Document PATCH semantics: a non-empty body, no per-field defaults (omitted = kept)."""
    schema["minProperties"] = 1
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class TaskUpdate(SQLModel):
    """Body of ``PATCH /api/tasks/{task_id}``: any non-empty subset of the fields.

    Omitted fields stay unchanged; ``"description": null`` clears the description;
    ``title`` and ``completed`` cannot be null.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_patch_schema)  # type: ignore[assignment]

    # title/completed are non-nullable: their None default only marks "not supplied" and is
    # never written, because the service applies model_dump(exclude_unset=True). An explicit
    # null therefore fails type validation with a 422 naming the field.
    title: str = Field(
        default=None, min_length=1, max_length=TITLE_MAX_LENGTH, description=TITLE_DOC
    )
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX_LENGTH)
    completed: bool = Field(default=None)

    _strip_title = field_validator("title", mode="before")(_strip)

    @model_validator(mode="after")
    def _require_a_field(self) -> Self:
        """Reject an empty body: a no-op update would still bump ``updated_at``."""
        if not self.model_fields_set:
            raise ValueError("at least one of title, description, completed must be supplied")
        return self


class TaskRead(SQLModel):
    """A task as returned to its owner (no ``user_id``)."""

    id: int
    title: str
    description: str | None
    completed: bool
    created_at: datetime
    updated_at: datetime

    @field_validator("created_at", "updated_at")
    @classmethod
    def _assume_utc(cls, value: datetime) -> datetime:
        """Mark naive datetimes as UTC: SQLite drops the offset that was stored."""
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class TaskListResponse(SQLModel):
    """One page of the caller's tasks plus the total number they own."""

    items: list[TaskRead]
    total: int = Field(ge=0)
    limit: int
    offset: int
