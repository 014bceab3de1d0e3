"""The contracts gate: the feature's OpenAPI contract against the app's own app.openapi()."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.gates import Finding, GateContext, GateResult, contracts
from bot.settings import Settings
from tests.conftest import ROOT, committed_example, reachable_tempdir, run_git

EXAMPLE = ROOT / "examples" / "taskboard"
FEATURE = "001-user-tasks"
CONTRACT = f"specs/{FEATURE}/contracts/openapi.yaml"


def app_openapi(backend: Path) -> dict[str, Any]:
    """The example app's own OpenAPI document, from an import in a child process."""
    env = {**os.environ, "JWT_SECRET": "x" * 64, "DATABASE_URL": "sqlite://", "PYTHONDONTWRITEBYTECODE": "1"}
    code = "import json; from src.main import app; print(json.dumps(app.openapi()))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=backend,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def example() -> Iterator[Path]:
    """The taskboard example at 001, committed as the base, in a world-readable temp dir."""
    with reachable_tempdir() as parent:
        yield committed_example(parent)


@pytest.fixture(scope="module")
def example_openapi() -> dict[str, Any]:
    return app_openapi(EXAMPLE / "backend")


def run(repo: Path, app: dict[str, Any] | None, feature: str | None = FEATURE) -> GateResult:
    return contracts.gate(GateContext(repo, "HEAD", Settings(), feature), app)


def line_of(path: Path, needle: str, after: str = "") -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


# -- the example ------------------------------------------------------------------------------------------


def test_example_at_001_passes(example: Path, example_openapi: dict[str, Any]) -> None:
    result = run(example, example_openapi)
    assert result.passed
    assert result.ran
    assert result.findings == ()
    assert result.summary.startswith("5 operation(s) checked against 1 contract file(s)")


def test_field_dropped_from_taskread_fails(example: Path) -> None:
    model = example / "backend/src/models/task.py"
    text = model.read_text(encoding="utf-8")
    marker = 'class TaskRead(SQLModel):\n    """A task as returned to its owner (no ``user_id``)."""\n'
    assert marker in text
    head, tail = text.split(marker)
    model.write_text(head + marker + tail.replace("    completed: bool\n", "", 1), encoding="utf-8")
    result = run(example, app_openapi(example / "backend"))
    assert not result.passed
    (finding,) = result.errors
    contract_line = line_of(example / CONTRACT, "completed:", after="    TaskRead:")
    assert finding.location == f"{CONTRACT}:{contract_line}"
    assert "'completed'" in finding.message
    assert "schema TaskRead" in finding.message


def test_feature_002_is_not_implemented_at_001(example: Path, example_openapi: dict[str, Any]) -> None:
    result = run(example, example_openapi, feature="002-task-due-dates")
    assert not result.passed
    assert any("'due_date'" in f.message for f in result.errors)
    assert all(f.file == "specs/002-task-due-dates/contracts/openapi.yaml" and f.line for f in result.errors)


def test_contract_is_read_at_the_base_revision(example: Path, example_openapi: dict[str, Any]) -> None:
    contract = example / CONTRACT
    contract.write_text(
        contract.read_text(encoding="utf-8").replace("/api/tasks:", "/api/other:"), encoding="utf-8"
    )
    assert run(example, example_openapi).passed  # the work tree's edit is the guard's business


def test_no_contract_folder_passes(example: Path, example_openapi: dict[str, Any]) -> None:
    shutil.rmtree(example / f"specs/{FEATURE}/contracts")
    run_git(example, "commit", "-q", "-am", "drop contracts")
    result = run(example, example_openapi)
    assert result.passed
    assert result.summary == "no contract"
    assert run(example, example_openapi, feature=None).passed


def test_no_app_openapi_is_not_verified_with_its_fix(example: Path) -> None:
    result = run(example, None)
    assert not result.ran
    assert result.verdict == "not verified"
    assert not result.passed
    [gap] = result.unverified
    assert gap.rule == "no-openapi"
    assert "`setup-command`" in gap.fix


# -- rules, on small documents -----------------------------------------------------------------------------

BASE_CONTRACT = """\
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /items/{item_id}:
    parameters:
      - name: item_id
        in: path
        required: true
        schema: {type: integer}
    get:
      parameters:
        - name: verbose
          in: query
          required: false
          schema: {type: boolean}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Item"
        "404":
          description: missing
  /items:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/ItemCreate"
      responses:
        "201":
          description: created
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Item"
components:
  schemas:
    Item:
      type: object
      required: [id, name, note, status, created_at]
      properties:
        id: {type: integer}
        name: {type: string}
        note: {type: [string, "null"]}
        status: {type: string, enum: [open, done]}
        created_at: {type: string, format: date-time}
    ItemCreate:
      type: object
      required: [name]
      properties:
        name: {type: string}
        note: {type: string, nullable: true}
"""


def base_app() -> dict[str, Any]:
    """What FastAPI would emit for an app that implements BASE_CONTRACT exactly."""
    item = {
        "type": "object",
        "required": ["id", "name", "note", "status", "created_at"],
        "properties": {
            "id": {"type": "integer", "title": "Id"},
            "name": {"type": "string", "title": "Name"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Note"},
            "status": {"$ref": "#/components/schemas/Status"},
            "created_at": {"type": "string", "format": "date-time"},
        },
    }
    create = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
    }
    json_of = {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}
    return {
        "openapi": "3.1.0",
        "paths": {
            "/items/{item_id}": {
                "get": {
                    "parameters": [
                        {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                        {"name": "verbose", "in": "query", "required": False, "schema": {"type": "boolean"}},
                    ],
                    "responses": {
                        "200": {"description": "ok", "content": json_of},
                        "404": {"description": "missing"},
                        "422": {"description": "Validation Error"},
                    },
                }
            },
            "/items": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ItemCreate"}}
                        },
                    },
                    "responses": {"201": {"description": "created", "content": json_of}},
                }
            },
        },
        "components": {
            "schemas": {
                "Item": item,
                "ItemCreate": create,
                "Status": {"type": "string", "enum": ["open", "done"]},
            }
        },
    }


def compare(app: dict[str, Any], contract: str = BASE_CONTRACT) -> list[Finding]:
    comparison = contracts.Comparison(contracts.load_contract("c.yaml", contract), app)
    comparison.run()
    return comparison.findings


def summary(findings: list[Finding]) -> list[tuple[str, int, str]]:
    return [(f.severity, f.line or 0, f.message) for f in findings]


def line(needle: str, after: str = "", text: str = BASE_CONTRACT) -> int:
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if after in ln) if after else 0
    return next(i for i, ln in enumerate(lines) if i >= start and needle in ln) + 1


def test_matching_app_has_no_findings() -> None:
    assert compare(base_app()) == []


def test_nullable_forms_are_equivalent() -> None:
    app = base_app()
    app["components"]["schemas"]["Item"]["properties"]["note"] = {"type": ["string", "null"]}
    app["components"]["schemas"]["ItemCreate"]["properties"]["note"] = {"type": "string", "nullable": True}
    assert compare(app) == []


def test_missing_path_and_method() -> None:
    app = base_app()
    del app["paths"]["/items"]
    app["paths"]["/items/{item_id}"]["delete"] = app["paths"]["/items/{item_id}"].pop("get")
    found = summary(compare(app))
    assert [(s, n) for s, n, _ in found] == [("error", line("    get:")), ("error", line("  /items:"))]
    assert "GET /items/{item_id} is not implemented by the app" in found[0][2]
    assert "path /items is not in the app" in found[1][2]


def test_path_matching_ignores_parameter_names_but_warns() -> None:
    app = base_app()
    item = app["paths"].pop("/items/{item_id}")
    item["get"]["parameters"][0]["name"] = "id"
    app["paths"]["/items/{id}"] = item
    found = summary(compare(app))
    assert found == [
        (
            "warning",
            line("- name: item_id"),
            "GET /items/{item_id}: path parameter 'item_id' is called 'id' in the app",
        )
    ]


def test_servers_base_path_is_a_prefix() -> None:
    app = base_app()
    app["paths"] = {f"/api{p}": item for p, item in app["paths"].items()}
    contract = BASE_CONTRACT.replace("paths:\n", "servers:\n  - url: https://example.com/api\npaths:\n", 1)
    assert compare(app, contract) == []


def test_status_code_missing_in_app() -> None:
    app = base_app()
    del app["paths"]["/items/{item_id}"]["get"]["responses"]["404"]
    found = summary(compare(app))
    assert [(s, n) for s, n, _ in found] == [("error", line('"404"'))]
    assert "status 404 is declared by the contract but not documented by the app" in found[0][2]


def test_response_field_missing_required_is_error_optional_is_warning() -> None:
    app = base_app()
    del app["components"]["schemas"]["Item"]["properties"]["created_at"]
    contract = BASE_CONTRACT.replace(
        "required: [id, name, note, status, created_at]", "required: [id, name, note, status]"
    )
    assert [(s, n) for s, n, _ in summary(compare(app, contract))] == [("warning", line("created_at: {type"))]
    found = summary(compare(app))
    assert [(s, n) for s, n, _ in found] == [("error", line("created_at: {type"))]
    assert "field 'created_at' (required) is missing" in found[0][2]
    assert "(app: schema Item)" in found[0][2]


def test_extra_response_field_is_a_warning() -> None:
    app = base_app()
    app["components"]["schemas"]["Item"]["properties"]["owner_id"] = {"type": "string"}
    found = summary(compare(app))
    assert [(s, n) for s, n, _ in found] == [("warning", line("    Item:"))]
    assert "returns field 'owner_id'" in found[0][2]


def test_request_fields() -> None:
    app = base_app()
    create = app["components"]["schemas"]["ItemCreate"]
    del create["properties"]["note"]
    create["properties"]["priority"] = {"type": "integer"}
    create["required"] = ["name", "priority"]
    found = summary(compare(app))
    assert [(s, n) for s, n, _ in found] == [
        ("error", line("note: {type: string, nullable")),
        ("error", line("ItemCreate:", after="schemas:")),
    ]
    assert "field 'note' is not accepted by the app" in found[0][2]
    assert "the app requires field 'priority'" in found[1][2]


def test_required_ness_of_request_fields() -> None:
    app = base_app()
    app["components"]["schemas"]["ItemCreate"]["required"] = ["name", "note"]
    found = summary(compare(app))
    assert [(s, n) for s, n, _ in found] == [("error", line("note: {type: string, nullable"))]
    assert "optional in the contract but required by the app" in found[0][2]


def test_required_in_contract_optional_in_app_response_is_a_warning() -> None:
    app = base_app()
    app["components"]["schemas"]["Item"]["required"] = ["id", "name", "note", "status"]
    assert [(s, n) for s, n, _ in summary(compare(app))] == [("warning", line("created_at: {type"))]


def test_type_mismatch() -> None:
    app = base_app()
    app["components"]["schemas"]["Item"]["properties"]["id"] = {"type": "string"}
    found = summary(compare(app))
    assert [(s, n) for s, n, _ in found] == [("error", line("id: {type: integer}"))]
    assert "type integer in the contract, string in the app" in found[0][2]


def test_integer_vs_number_is_a_warning() -> None:
    app = base_app()
    app["components"]["schemas"]["Item"]["properties"]["id"] = {"type": "number"}
    assert [s for s, _, _ in summary(compare(app))] == ["warning"]


def test_nullable_mismatch_in_response_and_request() -> None:
    app = base_app()
    app["components"]["schemas"]["Item"]["properties"]["name"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}]
    }
    app["components"]["schemas"]["ItemCreate"]["properties"]["note"] = {"type": "string"}
    found = summary(compare(app))
    assert [(s, n) for s, n, _ in found] == [
        ("error", line("name: {type: string}", after="    Item:")),
        ("error", line("note: {type: string, nullable")),
    ]
    assert "may return null" in found[0][2]
    assert "the app rejects it" in found[1][2]


def test_enum_and_format() -> None:
    app = base_app()
    app["components"]["schemas"]["Status"]["enum"] = ["open", "done", "archived"]
    app["components"]["schemas"]["Item"]["properties"]["created_at"]["format"] = "date"
    found = summary(compare(app))
    assert [(s, n) for s, n, _ in found] == [
        ("error", line("status: {type: string, enum")),
        ("error", line("created_at: {type")),
    ]
    assert '"archived"' in found[0][2]
    assert "format date-time in the contract, date in the app" in found[1][2]


def test_parameters() -> None:
    app = base_app()
    params = app["paths"]["/items/{item_id}"]["get"]["parameters"]
    params[0]["schema"] = {"type": "string"}
    params[1]["required"] = True
    params.append({"name": "tenant", "in": "query", "required": True, "schema": {"type": "string"}})
    found = sorted(summary(compare(app)), key=lambda f: f[1])
    assert [(s, n) for s, n, _ in found] == [
        ("error", line("schema: {type: integer}", after="name: item_id")),
        ("error", line("    get:")),
        ("error", line("name: verbose")),
    ]
    assert "type integer in the contract, string in the app" in found[0][2]
    assert "requires the query parameter 'tenant'" in found[1][2]
    assert "query parameter 'verbose' is optional in the contract, required by the app" in found[2][2]


def test_missing_query_parameter() -> None:
    app = base_app()
    del app["paths"]["/items/{item_id}"]["get"]["parameters"][1]
    found = summary(compare(app))
    assert [(s, n) for s, n, _ in found] == [("error", line("name: verbose"))]


def test_request_body_presence() -> None:
    app = base_app()
    del app["paths"]["/items"]["post"]["requestBody"]
    found = summary(compare(app))
    assert [(s, n) for s, n, _ in found] == [("error", line("requestBody:"))]
    assert "the app takes none" in found[0][2]


def test_json_contract_is_read() -> None:
    data = contracts.load_contract("c.yaml", BASE_CONTRACT).data
    text = json.dumps(data, indent=2)
    comparison = contracts.Comparison(contracts.load_contract("c.json", text), base_app())
    comparison.run()
    assert comparison.findings == []
    app = base_app()
    del app["paths"]["/items"]
    comparison = contracts.Comparison(contracts.load_contract("c.json", text), app)
    comparison.run()
    (finding,) = comparison.findings
    assert finding.line == line('"/items": {', text=text)


def test_swagger_2_contract() -> None:
    swagger = textwrap.dedent("""\
        swagger: "2.0"
        basePath: /
        paths:
          /items:
            post:
              parameters:
                - in: body
                  name: body
                  required: true
                  schema: {$ref: "#/definitions/ItemCreate"}
              responses:
                "201":
                  description: created
                  schema: {$ref: "#/definitions/Item"}
        definitions:
          ItemCreate:
            type: object
            required: [name]
            properties:
              name: {type: string}
              color: {type: string}
          Item:
            type: object
            properties:
              id: {type: integer}
        """)
    app = base_app()
    del app["paths"]["/items/{item_id}"]
    found = summary(compare(app, swagger))
    assert [(s, n) for s, n, _ in found if s == "error"] == [("error", line("color:", text=swagger))]
    assert "field 'color' is not accepted by the app" in found[0][2]
    assert {m.split("'")[1] for s, _, m in found if s == "warning"} == {
        "name",
        "note",
        "status",
        "created_at",
    }


def test_unparseable_contract_is_an_error_with_its_line(
    example: Path, example_openapi: dict[str, Any]
) -> None:
    contract = example / CONTRACT
    contract.write_text(
        contract.read_text(encoding="utf-8").replace("  /api/tasks:\n", "  /api/tasks: [\n", 1)
    )
    run_git(example, "commit", "-q", "-am", "broken")
    result = run(example, example_openapi)
    assert not result.passed
    assert [(f.rule, f.file) for f in result.errors] == [("contract-parse", CONTRACT)]
    assert result.errors[0].line
    assert result.errors[0].line > 1


def test_extra_app_operations(git_repo: Callable[..., Path]) -> None:
    repo = git_repo({
        "specs/001-a/contracts/openapi.yaml": BASE_CONTRACT,
        "specs/001-a/plan.md": "We also add GET /health for the load balancer.\n",
        "specs/000-old/contracts/api.yaml": "openapi: 3.0.0\npaths:\n  /legacy:\n    get: {responses: {}}\n",
    })  # fmt: skip
    app = base_app()
    ok = {"responses": {"200": {"description": "ok"}}}
    app["paths"].update({"/health": {"get": ok}, "/legacy": {"get": ok}, "/admin": {"get": ok}})
    before = copy.deepcopy(app)
    result = contracts.gate(GateContext(repo, "HEAD", Settings(), "001-a"), app)
    assert result.passed
    extras = sorted((f.severity, f.message) for f in result.findings)
    assert extras == [
        ("notice", "the app has GET /health, which no contract declares (plan.md mentions it)"),
        ("warning", "the app has GET /admin, which no contract declares"),
    ]
    assert app == before  # the app's document is only read
