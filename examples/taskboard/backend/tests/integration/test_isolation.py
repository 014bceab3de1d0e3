"""Per-user isolation (FR-009, SC-002): user B can never see or touch user A's tasks.

Every foreign access must be answered exactly like an access to a task that does not exist.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

Headers = dict[str, str]
MISSING_ID = 987654

FOREIGN_OPERATIONS = [
    ("GET", None),
    ("PATCH", {"title": "taken over"}),
    ("PATCH", {"completed": True}),
    ("PATCH", {"description": None}),
    ("DELETE", None),
]


@pytest.fixture
def alices_task(client: TestClient, alice: Headers) -> dict[str, Any]:
    """A task owned by user A, with every field set."""
    response = client.post(
        "/api/tasks", json={"title": "Alice's secret", "description": "private"}, headers=alice
    )
    assert response.status_code == 201
    task: dict[str, Any] = response.json()
    return task


@pytest.mark.parametrize("operation", FOREIGN_OPERATIONS)
def test_foreign_task_is_indistinguishable_from_a_missing_one(
    client: TestClient,
    alice: Headers,
    bob: Headers,
    alices_task: dict[str, Any],
    operation: tuple[str, dict[str, Any] | None],
) -> None:
    method, body = operation
    foreign = client.request(method, f"/api/tasks/{alices_task['id']}", json=body, headers=bob)
    missing = client.request(method, f"/api/tasks/{MISSING_ID}", json=body, headers=bob)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert foreign.headers.get("content-length") == missing.headers.get("content-length")
    # And user A's task is untouched.
    assert client.get(f"/api/tasks/{alices_task['id']}", headers=alice).json() == alices_task


def test_other_users_list_is_empty(
    client: TestClient, bob: Headers, alices_task: dict[str, Any]
) -> None:
    page = client.get("/api/tasks", headers=bob).json()
    assert page == {"items": [], "total": 0, "limit": 50, "offset": 0}


def test_user_id_cannot_be_injected_through_the_body(
    client: TestClient, alice: Headers, bob: Headers
) -> None:
    response = client.post("/api/tasks", json={"title": "x", "user_id": "alice"}, headers=bob)
    assert response.status_code == 422
    assert client.get("/api/tasks", headers=alice).json()["total"] == 0


def test_identity_comes_only_from_the_token_subject(
    client: TestClient, make_token: Any, alices_task: dict[str, Any]
) -> None:
    # A token for "alice " (trailing space) or "ALICE" is a different user, not alice.
    for impostor in ("ALICE", "alice ", "alice\u200b"):
        headers = {"Authorization": f"Bearer {make_token(impostor)}"}
        assert client.get(f"/api/tasks/{alices_task['id']}", headers=headers).status_code == 404
