"""Unit tests for the request/response models' validation rules (data-model.md)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from src.models.task import TaskCreate, TaskRead, TaskUpdate


def _error_fields(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {str(error["loc"][0]) for error in exc.value.errors() if error["loc"]}


def test_title_is_trimmed() -> None:
    assert TaskCreate.model_validate({"title": "  Buy milk \n"}).title == "Buy milk"


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_invalid_title_is_rejected(title: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TaskCreate.model_validate({"title": title})
    assert _error_fields(caught) == {"title"}


def test_title_limit_applies_after_trimming() -> None:
    assert TaskCreate.model_validate({"title": f"  {'x' * 200}  "}).title == "x" * 200


def test_description_is_optional_and_bounded() -> None:
    assert TaskCreate.model_validate({"title": "t"}).description is None
    assert TaskCreate.model_validate({"title": "t", "description": "d" * 1000}).description
    with pytest.raises(ValidationError) as caught:
        TaskCreate.model_validate({"title": "t", "description": "d" * 1001})
    assert _error_fields(caught) == {"description"}


@pytest.mark.parametrize("field", ["user_id", "id", "completed", "created_at"])
def test_create_rejects_server_controlled_fields(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TaskCreate.model_validate({"title": "t", field: "x"})
    assert _error_fields(caught) == {field}


def test_update_keeps_only_supplied_fields() -> None:
    update = TaskUpdate.model_validate({"description": None})
    assert update.model_dump(exclude_unset=True) == {"description": None}


def test_update_requires_at_least_one_field() -> None:
    with pytest.raises(ValidationError, match="at least one"):
        TaskUpdate.model_validate({})


@pytest.mark.parametrize("field", ["title", "completed"])
def test_update_rejects_null_for_non_nullable_fields(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TaskUpdate.model_validate({field: None})
    assert _error_fields(caught) == {field}


@pytest.mark.parametrize("field", ["user_id", "id", "updated_at"])
def test_update_rejects_server_controlled_fields(field: str) -> None:
    with pytest.raises(ValidationError):
        TaskUpdate.model_validate({"title": "t", field: "x"})


def test_read_model_never_exposes_the_owner() -> None:
    assert "user_id" not in TaskRead.model_fields
