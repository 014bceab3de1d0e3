"""User Story 3 - Delete my tasks (US3-1..US3-2) and delete edge cases."""

from __future__ import annotations

from fastapi.testclient import TestClient

Headers = dict[str, str]


def _create(client: TestClient, headers: Headers, title: str = "Old task") -> int:
    response = client.post("/api/tasks", json={"title": title}, headers=headers)
    assert response.status_code == 201, response.text
    task_id: int = response.json()["id"]
    return task_id


def test_us3_1_deleted_task_is_gone_from_get_and_list(client: TestClient, alice: Headers) -> None:
    keep = _create(client, alice, "keep")
    gone = _create(client, alice, "gone")
    response = client.delete(f"/api/tasks/{gone}", headers=alice)
    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/tasks/{gone}", headers=alice).status_code == 404
    page = client.get("/api/tasks", headers=alice).json()
    assert [item["id"] for item in page["items"]] == [keep]
    assert page["total"] == 1


def test_us3_2_deleting_another_users_task_is_not_found_and_keeps_it(
    client: TestClient, alice: Headers, bob: Headers
) -> None:
    task_id = _create(client, bob)
    response = client.delete(f"/api/tasks/{task_id}", headers=alice)
    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}
    assert client.get(f"/api/tasks/{task_id}", headers=bob).status_code == 200


def test_deleting_twice_is_not_found(client: TestClient, alice: Headers) -> None:
    task_id = _create(client, alice)
    assert client.delete(f"/api/tasks/{task_id}", headers=alice).status_code == 204
    assert client.delete(f"/api/tasks/{task_id}", headers=alice).status_code == 404
