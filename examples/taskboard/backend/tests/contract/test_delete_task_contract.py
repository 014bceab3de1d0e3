"""Contract tests for DELETE /api/tasks/{task_id} (T022)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.contract.openapi_contract import check_response

Headers = dict[str, str]
ITEM = "/api/tasks/{task_id}"


def test_delete_task_204(client: TestClient, alice: Headers) -> None:
    task_id = client.post("/api/tasks", json={"title": "t"}, headers=alice).json()["id"]
    response = client.delete(f"/api/tasks/{task_id}", headers=alice)
    assert response.status_code == 204
    check_response(response, ITEM, "delete")


def test_delete_task_401(client: TestClient) -> None:
    response = client.delete("/api/tasks/1")
    assert response.status_code == 401
    check_response(response, ITEM, "delete")


def test_delete_task_404(client: TestClient, alice: Headers) -> None:
    response = client.delete("/api/tasks/1", headers=alice)
    assert response.status_code == 404
    check_response(response, ITEM, "delete")
