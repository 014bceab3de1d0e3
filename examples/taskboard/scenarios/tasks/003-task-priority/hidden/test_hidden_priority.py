"""Held-out acceptance tests for 003-task-priority (US1-1..US1-4, US2-1..US2-4), from its spec alone.

The agent never sees them: the eval copies this folder into the work tree after a session ended
and runs it in the sandbox, to learn whether the work really meets the spec. They use only what
spec 001 already gives the tests (the `client`, `alice` and `bob` fixtures) and the v1.2.0
contract, so any correct implementation passes them.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

Headers = dict[str, str]


def _create(client: TestClient, who: Headers, title: str, **fields: object) -> dict[str, Any]:
    response = client.post("/api/tasks", json={"title": title, **fields}, headers=who)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def _read(client: TestClient, who: Headers, task_id: int) -> dict[str, Any]:
    response = client.get(f"/api/tasks/{task_id}", headers=who)
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


def _page(client: TestClient, who: Headers, **params: str) -> dict[str, Any]:
    response = client.get("/api/tasks", params=params, headers=who)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _names_priority(response: Any, where: str) -> bool:
    return response.status_code == 422 and any(
        error["loc"] == [where, "priority"] for error in response.json()["detail"]
    )


def test_us1_1_a_priority_given_on_create_reads_back(client: TestClient, alice: Headers) -> None:
    """US1-1: a task created with priority "high" reads back with priority "high"."""
    task = _create(client, alice, "call the bank", priority="high")
    assert _read(client, alice, task["id"])["priority"] == "high"


def test_us1_2_a_task_created_without_a_priority_is_normal(client: TestClient, alice: Headers) -> None:
    """US1-2: a task created without a priority reads back with priority "normal"."""
    task = _create(client, alice, "water the plants")
    assert task["priority"] == "normal"
    assert _read(client, alice, task["id"])["priority"] == "normal"


def test_us1_3_changing_the_priority_reads_back_and_bumps_updated_at(
    client: TestClient, alice: Headers
) -> None:
    """US1-3: changing normal to "low" reads back as low, and the last-updated time changes."""
    task = _create(client, alice, "tidy the desk")
    response = client.patch(f"/api/tasks/{task['id']}", json={"priority": "low"}, headers=alice)
    assert response.status_code == 200, response.text
    changed = _read(client, alice, task["id"])
    assert changed["priority"] == "low"
    assert changed["updated_at"] != task["updated_at"]
    # An update that omits the priority keeps it (FR-003).
    client.patch(f"/api/tasks/{task['id']}", json={"title": "tidy the whole desk"}, headers=alice)
    assert _read(client, alice, task["id"])["priority"] == "low"


@pytest.mark.parametrize("value", ["urgent", "High", None])
def test_us1_4_an_invalid_priority_is_rejected_and_nothing_changes(
    client: TestClient, alice: Headers, value: object
) -> None:
    """US1-4: "urgent", "High" or null on create or update is a 422 naming priority; nothing changes."""
    created = client.post("/api/tasks", json={"title": "x", "priority": value}, headers=alice)
    assert _names_priority(created, "body")
    assert _page(client, alice)["total"] == 0
    task = _create(client, alice, "kept", priority="high")
    updated = client.patch(f"/api/tasks/{task['id']}", json={"priority": value}, headers=alice)
    assert _names_priority(updated, "body")
    assert _read(client, alice, task["id"]) == task


def test_us2_1_the_filter_shows_exactly_that_priority_newest_first(
    client: TestClient, alice: Headers
) -> None:
    """US2-1: with 2 high, 1 normal, 1 low task, priority "high" lists the 2 high ones, newest first."""
    first = _create(client, alice, "first high", priority="high")["id"]
    _create(client, alice, "the normal one")
    second = _create(client, alice, "second high", priority="high")["id"]
    _create(client, alice, "the low one", priority="low")
    page = _page(client, alice, priority="high")
    assert [item["id"] for item in page["items"]] == [second, first]
    assert page["total"] == 2
    assert [item["title"] for item in _page(client, alice, priority="low")["items"]] == ["the low one"]


def test_us2_2_the_filter_never_shows_another_users_tasks(
    client: TestClient, alice: Headers, bob: Headers
) -> None:
    """US2-2: A and B both have high tasks; A's priority=high list and total hold only A's."""
    _create(client, bob, "bob's high", priority="high")
    _create(client, bob, "bob's other high", priority="high")
    mine = _create(client, alice, "alice's high", priority="high")["id"]
    page = _page(client, alice, priority="high")
    assert [item["id"] for item in page["items"]] == [mine]
    assert page["total"] == 1
    assert _page(client, alice, priority="low") == {"items": [], "total": 0, "limit": 50, "offset": 0}


@pytest.mark.parametrize("value", ["urgent", "HIGH"])
def test_us2_3_an_unknown_priority_filter_is_rejected_naming_the_parameter(
    client: TestClient, alice: Headers, value: str
) -> None:
    """US2-3: listing with priority "urgent" is a 422 naming the priority parameter."""
    response = client.get("/api/tasks", params={"priority": value}, headers=alice)
    assert _names_priority(response, "query")


def test_us2_4_without_the_filter_every_task_is_listed_newest_first(
    client: TestClient, alice: Headers
) -> None:
    """US2-4: without a priority the list shows all of the user's tasks, newest first."""
    ids = [_create(client, alice, f"task {p}", priority=p)["id"] for p in ("low", "high", "normal")]
    page = _page(client, alice)
    assert [item["id"] for item in page["items"]] == ids[::-1]
    assert [item["priority"] for item in page["items"]] == ["normal", "high", "low"]
    assert page["total"] == 3
