"""Held-out acceptance tests for 005-task-summary, written from its spec alone.

The agent never sees them: the eval copies this folder into the work tree after a session ended
and runs it in the sandbox, to learn whether the work really meets the spec. They use only what
spec 001 already gives the tests (the `client`, `alice`, `bob` and `make_token` fixtures) and
the v1.1.0 contract, so any correct implementation passes them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

Headers = dict[str, str]
SUMMARY = "/api/tasks/summary"
# pragma: allowlist nextline secret
WRONG_SECRET = "not-the-server-secret-for-hidden-tests-".ljust(64, "q")


def _create(client: TestClient, who: Headers, title: str, *, completed: bool = False) -> int:
    response = client.post("/api/tasks", json={"title": title}, headers=who)
    assert response.status_code == 201, response.text
    task_id: int = response.json()["id"]
    if completed:
        patched = client.patch(f"/api/tasks/{task_id}", json={"completed": True}, headers=who)
        assert patched.status_code == 200, patched.text
    return task_id


def _summary(client: TestClient, who: Headers) -> Any:
    response = client.get(SUMMARY, headers=who)
    assert response.status_code == 200, response.text
    return response.json()


def test_us1_1_two_done_three_open(client: TestClient, alice: Headers) -> None:
    """US1-1: 2 completed and 3 open tasks give total 5, done 2, open 3."""
    for title in ("d1", "d2"):
        _create(client, alice, title, completed=True)
    for title in ("o1", "o2", "o3"):
        _create(client, alice, title)
    assert _summary(client, alice) == {"total": 5, "done": 2, "open": 3}


def test_us1_2_a_new_user_gets_zeros(client: TestClient, alice: Headers) -> None:
    """US1-2: a user without tasks gets total 0, done 0, open 0 (200, not an error)."""
    assert _summary(client, alice) == {"total": 0, "done": 0, "open": 0}


def test_us1_3_counts_follow_completion_and_deletion(client: TestClient, alice: Headers) -> None:
    """US1-3: complete one of two open tasks and delete the other: total 1, done 1, open 0."""
    keep, drop = _create(client, alice, "keep"), _create(client, alice, "drop")
    assert _summary(client, alice) == {"total": 2, "done": 0, "open": 2}
    assert client.patch(f"/api/tasks/{keep}", json={"completed": True}, headers=alice).status_code == 200
    assert client.delete(f"/api/tasks/{drop}", headers=alice).status_code == 204
    assert _summary(client, alice) == {"total": 1, "done": 1, "open": 0}


def test_us2_1_another_users_tasks_are_not_counted(client: TestClient, alice: Headers, bob: Headers) -> None:
    """US2-1: A (1 open) and B (3 tasks, 2 completed): A's summary counts A's task only."""
    _create(client, alice, "alice open")
    _create(client, bob, "bob open")
    _create(client, bob, "bob done 1", completed=True)
    _create(client, bob, "bob done 2", completed=True)
    assert _summary(client, alice) == {"total": 1, "done": 0, "open": 1}
    assert _summary(client, bob) == {"total": 3, "done": 2, "open": 1}


def test_us2_2_no_counts_without_a_valid_token(client: TestClient, alice: Headers, make_token: Any) -> None:
    """US2-2: no token, an expired token or a wrongly signed token: 401 and no counts."""
    _create(client, alice, "private")
    for headers in (
        {},
        {"Authorization": f"Bearer {make_token('alice', expires_in=timedelta(seconds=-5))}"},
        {"Authorization": f"Bearer {make_token('alice', secret=WRONG_SECRET)}"},
    ):
        response = client.get(SUMMARY, headers=headers)
        assert response.status_code == 401, headers
        assert "total" not in response.text


def test_tasks_are_still_reached_by_numeric_id(client: TestClient, alice: Headers) -> None:
    """FR-007 (edge case): the summary address does not break reading a task by its id."""
    task_id = _create(client, alice, "by id")
    response = client.get(f"/api/tasks/{task_id}", headers=alice)
    assert response.status_code == 200
    assert response.json()["title"] == "by id"
