"""Held-out acceptance tests for 002-task-due-dates, written from its spec alone.

The agent never sees them: the verdict corpus copies this folder into the work tree after a
session ended and runs it in the sandbox, to learn whether the work really meets the spec. They
use only what spec 001 already gives the tests (the `client`, `alice` and `bob` fixtures) and the
v1.1.0 contract, so any correct implementation passes them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

Headers = dict[str, str]


def _create(client: TestClient, who: Headers, title: str, due: str | None = None) -> int:
    body: dict[str, object] = {"title": title}
    if due is not None:
        body["due_date"] = due
    response = client.post("/api/tasks", json=body, headers=who)
    assert response.status_code == 201, response.text
    task_id: int = response.json()["id"]
    return task_id


def _titles(client: TestClient, who: Headers, **params: str) -> list[str]:
    response = client.get("/api/tasks", params=params, headers=who)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def test_a_due_date_reads_back(client: TestClient, alice: Headers) -> None:
    task_id = _create(client, alice, "pay rent", due="2026-03-01")
    assert client.get(f"/api/tasks/{task_id}", headers=alice).json()["due_date"] == "2026-03-01"


def test_an_impossible_due_date_is_rejected_and_nothing_is_stored(client: TestClient, alice: Headers) -> None:
    response = client.post("/api/tasks", json={"title": "x", "due_date": "2026-02-30"}, headers=alice)
    assert response.status_code == 422
    assert "due_date" in response.text
    assert _titles(client, alice) == []


def test_overdue_means_open_and_due_before_today_in_utc(client: TestClient, alice: Headers) -> None:
    today = datetime.now(UTC).date()
    _create(client, alice, "late", due=(today - timedelta(days=1)).isoformat())
    _create(client, alice, "due today", due=today.isoformat())
    _create(client, alice, "undated")
    done = _create(client, alice, "done late", due=(today - timedelta(days=3)).isoformat())
    assert client.patch(f"/api/tasks/{done}", json={"completed": True}, headers=alice).status_code == 200
    overdue = _titles(client, alice, overdue="true")
    if datetime.now(UTC).date() == today:  # the date did not change while the test ran
        assert overdue == ["late"]


def test_no_filter_shows_another_users_tasks(client: TestClient, alice: Headers, bob: Headers) -> None:
    _create(client, bob, "bob's", due="2000-01-01")
    for params in (
        {"overdue": "true"},
        {"status": "pending"},
        {"due_to": "2999-12-31"},
        {"sort": "due_date"},
    ):
        assert _titles(client, alice, **params) == []


def test_sorting_by_due_date_puts_undated_tasks_last(client: TestClient, alice: Headers) -> None:
    _create(client, alice, "undated")
    _create(client, alice, "later", due="2026-03-20")
    _create(client, alice, "sooner", due="2026-03-05")
    assert _titles(client, alice, sort="due_date", order="asc") == ["sooner", "later", "undated"]
    assert _titles(client, alice, sort="due_date", order="desc") == ["later", "sooner", "undated"]
