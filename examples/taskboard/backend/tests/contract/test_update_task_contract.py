"""Contract tests for PATCH /api/tasks/{task_id} (T017)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.contract.openapi_contract import check_response

Headers = dict[str, str]
ITEM = "/api/tasks/{task_id}"


def _task_id(client: TestClient, headers: Headers) -> int:
    task_id: int = client.post("/api/tasks", json={"title": "t"}, headers=headers).json()["id"]
    return task_id


def test_update_task_200(client: TestClient, alice: Headers) -> None:
    task_id = _task_id(client, alice)
    body = {"title": "renamed", "description": "details", "completed": True}
    response = client.patch(f"/api/tasks/{task_id}", json=body, headers=alice)
    assert response.status_code == 200
    check_response(response, ITEM, "patch")


def test_update_task_401(client: TestClient) -> None:
    response = client.patch("/api/tasks/1", json={"completed": True})
    assert response.status_code == 401
    check_response(response, ITEM, "patch")


def test_update_task_404(client: TestClient, alice: Headers, bob: Headers) -> None:
    task_id = _task_id(client, bob)
    response = client.patch(f"/api/tasks/{task_id}", json={"completed": True}, headers=alice)
    assert response.status_code == 404
    check_response(response, ITEM, "patch")


def test_update_task_422(client: TestClient, alice: Headers) -> None:
    task_id = _task_id(client, alice)
    response = client.patch(f"/api/tasks/{task_id}", json={"colour": "red"}, headers=alice)
    assert response.status_code == 422
    check_response(response, ITEM, "patch")
