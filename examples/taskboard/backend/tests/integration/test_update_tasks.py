"""User Story 2 - Update and complete my tasks (US2-1..US2-4) and update edge cases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeClock

Headers = dict[str, str]


def _create(client: TestClient, headers: Headers, **fields: object) -> dict[str, Any]:
    response = client.post("/api/tasks", json={"title": "Write report", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _patch(client: TestClient, headers: Headers, task_id: object, body: object) -> dict[str, Any]:
    response = client.patch(f"/api/tasks/{task_id}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_us2_1_complete_a_task_bumps_updated_at(
    client: TestClient, alice: Headers, clock: FakeClock
) -> None:
    task = _create(client, alice)
    clock.advance(minutes=1)
    updated = _patch(client, alice, task["id"], {"completed": True})
    assert updated["completed"] is True
    assert updated["updated_at"] != task["updated_at"]
    assert updated["created_at"] == task["created_at"]
    assert client.get(f"/api/tasks/{task['id']}", headers=alice).json() == updated


def test_us2_2_reopen_a_completed_task(client: TestClient, alice: Headers) -> None:
    task = _create(client, alice)
    _patch(client, alice, task["id"], {"completed": True})
    assert _patch(client, alice, task["id"], {"completed": False})["completed"] is False


def test_us2_3_changing_description_leaves_the_rest(client: TestClient, alice: Headers) -> None:
    task = _create(client, alice, description="draft")
    _patch(client, alice, task["id"], {"completed": True})
    updated = _patch(client, alice, task["id"], {"description": "final"})
    assert (updated["title"], updated["description"], updated["completed"]) == (
        "Write report",
        "final",
        True,
    )


def test_us2_4_updating_another_users_task_is_not_found_and_changes_nothing(
    client: TestClient, alice: Headers, bob: Headers
) -> None:
    task = _create(client, bob)
    response = client.patch(f"/api/tasks/{task['id']}", json={"title": "hacked"}, headers=alice)
    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}
    assert client.get(f"/api/tasks/{task['id']}", headers=bob).json() == task


def test_title_change_is_trimmed(client: TestClient, alice: Headers) -> None:
    task = _create(client, alice)
    assert _patch(client, alice, task["id"], {"title": "  Renamed  "})["title"] == "Renamed"


def test_null_description_clears_it(client: TestClient, alice: Headers) -> None:
    task = _create(client, alice, description="something")
    assert _patch(client, alice, task["id"], {"description": None})["description"] is None


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body"]),
        ({"title": "   "}, ["body", "title"]),
        ({"title": None}, ["body", "title"]),
        ({"completed": None}, ["body", "completed"]),
        ({"completed": "maybe"}, ["body", "completed"]),
        ({"description": "d" * 1001}, ["body", "description"]),
        ({"user_id": "bob"}, ["body", "user_id"]),
    ],
)
def test_invalid_update_is_rejected_and_changes_nothing(
    client: TestClient, alice: Headers, body: dict[str, object], loc: list[str]
) -> None:
    task = _create(client, alice)
    response = client.patch(f"/api/tasks/{task['id']}", json=body, headers=alice)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [loc]
    assert client.get(f"/api/tasks/{task['id']}", headers=alice).json() == task


def test_updating_a_deleted_task_is_not_found(client: TestClient, alice: Headers) -> None:
    task = _create(client, alice)
    assert client.delete(f"/api/tasks/{task['id']}", headers=alice).status_code == 204
    response = client.patch(f"/api/tasks/{task['id']}", json={"completed": True}, headers=alice)
    assert response.status_code == 404
