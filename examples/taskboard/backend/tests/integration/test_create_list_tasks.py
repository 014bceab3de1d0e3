"""User Story 1 - Create and view my tasks (US1-1..US1-5) and the listing edge cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import FakeClock

Headers = dict[str, str]


def _create(client: TestClient, headers: Headers, title: str, **fields: object) -> dict[str, Any]:
    response = client.post("/api/tasks", json={"title": title, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _list(client: TestClient, headers: Headers, **params: int) -> dict[str, Any]:
    response = client.get("/api/tasks", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_us1_1_create_returns_an_open_task_with_timestamps(
    client: TestClient, alice: Headers
) -> None:
    task = _create(client, alice, "Buy milk")
    assert set(task) == {"id", "title", "description", "completed", "created_at", "updated_at"}
    assert task["title"] == "Buy milk"
    assert task["description"] is None
    assert task["completed"] is False
    created_at = datetime.fromisoformat(str(task["created_at"]))
    assert created_at.utcoffset() is not None, "timestamps must carry their UTC offset"
    assert task["created_at"] == task["updated_at"]
    fetched = client.get(f"/api/tasks/{task['id']}", headers=alice)
    assert fetched.status_code == 200
    assert fetched.json() == task


def test_us1_2_list_shows_exactly_my_tasks_newest_first(
    client: TestClient, alice: Headers, clock: FakeClock
) -> None:
    ids = []
    for title in ("first", "second", "third"):
        ids.append(_create(client, alice, title)["id"])
        clock.advance(seconds=1)
    page = _list(client, alice)
    assert [item["id"] for item in page["items"]] == list(reversed(ids))
    assert (page["total"], page["limit"], page["offset"]) == (3, 50, 0)


@pytest.mark.parametrize("title", ["", "    "])
def test_us1_3_blank_title_is_rejected_and_nothing_is_stored(
    client: TestClient, alice: Headers, title: str
) -> None:
    response = client.post("/api/tasks", json={"title": title}, headers=alice)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", "title"]]
    assert _list(client, alice)["total"] == 0


def test_us1_4_list_never_shows_another_users_tasks(
    client: TestClient, alice: Headers, bob: Headers
) -> None:
    _create(client, alice, "alice's")
    _create(client, bob, "bob's")
    page = _list(client, alice)
    assert [item["title"] for item in page["items"]] == ["alice's"]
    assert page["total"] == 1


def test_us1_5_foreign_task_looks_exactly_like_a_missing_one(
    client: TestClient, alice: Headers, bob: Headers
) -> None:
    task_id = _create(client, bob, "bob's")["id"]
    foreign = client.get(f"/api/tasks/{task_id}", headers=alice)
    missing = client.get("/api/tasks/424242", headers=alice)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json() == {"detail": "Task not found"}


def test_title_is_trimmed_before_storing(client: TestClient, alice: Headers) -> None:
    assert _create(client, alice, "  Buy milk  ")["title"] == "Buy milk"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "description": "d" * 1001}, "description"),
        ({"title": "ok", "user_id": "bob"}, "user_id"),
        ({"description": "no title"}, "title"),
    ],
)
def test_invalid_create_names_the_field_and_stores_nothing(
    client: TestClient, alice: Headers, body: dict[str, object], field: str
) -> None:
    response = client.post("/api/tasks", json=body, headers=alice)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert [error["loc"] for error in errors] == [["body", field]]
    assert all(set(error) == {"loc", "msg", "type"} for error in errors)
    assert _list(client, alice)["total"] == 0


def test_paging_and_a_page_past_the_end(client: TestClient, alice: Headers) -> None:
    for n in range(5):
        _create(client, alice, f"task {n}")
    first = _list(client, alice, limit=2)
    assert (len(first["items"]), first["total"], first["limit"]) == (2, 5, 2)
    beyond = _list(client, alice, limit=2, offset=10)
    assert beyond == {"items": [], "total": 5, "limit": 2, "offset": 10}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"offset": -1}, "offset")],
)
def test_out_of_range_paging_is_rejected(
    client: TestClient, alice: Headers, params: dict[str, int], field: str
) -> None:
    response = client.get("/api/tasks", params=params, headers=alice)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["query", field]]


def test_max_page_size_is_accepted(client: TestClient, alice: Headers) -> None:
    assert _list(client, alice, limit=100)["limit"] == 100
