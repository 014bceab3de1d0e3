"""One OpenAPI contract compared with the app's own document: paths, parameters, bodies, schemas."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from bot.gates import Severity
from bot.gates.contract_schema import (
    METHODS,
    Pointer,
    resolve,
    shape,
    template,
)
from bot.gates.contract_shapes import ShapeComparison

# -- the comparison -----------------------------------------------------------------------------------


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Operation:
    """One operation on both sides: the contract's (with its pointers) and the app's."""

    label: str
    path: str
    app_path: str
    method: str
    item: dict[str, Any]
    item_ptr: Pointer
    op: dict[str, Any]
    app_item: dict[str, Any]
    app_op: dict[str, Any]

    @property
    def op_ptr(self) -> Pointer:
        return (*self.item_ptr, self.method)

    @property
    def app_ptr(self) -> Pointer:
        return ("paths", self.app_path, self.method)


class Comparison(ShapeComparison):
    """Compares one contract with the app's document; findings point into the contract."""

    # paths and operations
    def _prefixes(self) -> list[str]:
        prefixes = [""]
        servers = self.doc.get("servers")
        for server in servers if isinstance(servers, list) else []:
            if isinstance(server, dict) and isinstance(server.get("url"), str):
                base = urlparse(server["url"]).path.rstrip("/")
                if base and base not in prefixes:
                    prefixes.append(base)
        base_path = self.doc.get("basePath")
        if isinstance(base_path, str) and base_path.rstrip("/") not in prefixes:
            prefixes.append(base_path.rstrip("/"))
        return prefixes

    def _app_path(self, path: str) -> str | None:
        app_paths = _mapping(self.app.get("paths"))
        for prefix in self._prefixes():
            wanted = template(prefix + path)
            for candidate in app_paths:
                if template(candidate) == wanted:
                    return str(candidate)
        return None

    def run(self) -> None:
        paths = self.doc.get("paths")
        if not isinstance(paths, dict):
            self.add((), "the contract has no `paths`", "warning")
            return
        app_paths = _mapping(self.app.get("paths"))
        for path, raw_item in paths.items():
            item, item_ptr = resolve(self.doc, raw_item, ("paths", path))
            if not isinstance(item, dict):
                continue
            app_path = self._app_path(path)
            if app_path is None:
                known = ", ".join(sorted(app_paths)) or "none"
                self.add(("paths", path), f"path {path} is not in the app (app paths: {known})")
                continue
            app_item = _mapping(app_paths[app_path])
            for method in METHODS:
                if not isinstance(item.get(method), dict):
                    continue
                label = f"{method.upper()} {path}"
                if not isinstance(app_item.get(method), dict):
                    have = ", ".join(m.upper() for m in METHODS if m in app_item) or "nothing"
                    self.add(
                        (*item_ptr, method), f"{label} is not implemented by the app ({app_path} has {have})"
                    )
                    continue
                self.matched.add((method, app_path))
                op = Operation(
                    label, path, app_path, method, item, item_ptr, item[method], app_item, app_item[method]
                )
                self.parameters(op)
                self.request_body(op)
                self.responses(op)

    # parameters
    @staticmethod
    def _params(
        doc: dict[str, Any], owners: tuple[tuple[dict[str, Any], Pointer], ...]
    ) -> dict[tuple[str, str], tuple[dict[str, Any], Pointer]]:
        found: dict[tuple[str, str], tuple[dict[str, Any], Pointer]] = {}
        for owner, owner_ptr in owners:
            params = owner.get("parameters")
            for index, raw in enumerate(params if isinstance(params, list) else []):
                param, ptr = resolve(doc, raw, (*owner_ptr, "parameters", index))
                if isinstance(param, dict) and param.get("in") in ("path", "query") and param.get("name"):
                    found[(str(param["in"]), str(param["name"]))] = (param, ptr)
        return found

    @staticmethod
    def _param_schema(param: dict[str, Any], ptr: Pointer) -> tuple[Any, Pointer]:
        if "schema" in param:
            return param["schema"], (*ptr, "schema")
        keys = ("type", "format", "enum", "items")  # Swagger 2.0 puts the schema on the parameter
        return {k: param[k] for k in keys if k in param}, ptr

    def parameters(self, op: Operation) -> None:
        mine = self._params(self.doc, ((op.item, op.item_ptr), (op.op, op.op_ptr)))
        theirs = self._params(self.app, ((op.app_item, ("paths", op.app_path)), (op.app_op, op.app_ptr)))
        names = re.findall(r"\{([^}/]*)\}", op.path), re.findall(r"\{([^}/]*)\}", op.app_path)
        renamed = dict(zip(*names, strict=False))
        label = op.label
        for (where, name), (param, ptr) in mine.items():
            app_name = renamed.get(name, name) if where == "path" else name
            if (where, app_name) not in theirs:
                self.add(
                    ptr, f"{label}: {where} parameter '{name}' is not a parameter of the app's operation"
                )
                continue
            if app_name != name:
                self.add(
                    ptr, f"{label}: path parameter '{name}' is called '{app_name}' in the app", "warning"
                )
            app_param, app_ptr = theirs[(where, app_name)]
            c_required = bool(param.get("required")) or where == "path"
            a_required = bool(app_param.get("required")) or where == "path"
            if a_required and not c_required:
                self.add(
                    ptr,
                    f"{label}: {where} parameter '{name}' is optional in the contract, required by the app",
                )
            elif c_required and not a_required:
                self.add(
                    ptr,
                    f"{label}: {where} parameter '{name}' is required in the contract, optional in the app",
                    "warning",
                )
            c_node, c_ptr = self._param_schema(param, ptr)
            a_node, a_ptr = self._param_schema(app_param, app_ptr)
            self.schema(
                shape(self.doc, c_node, c_ptr, ""),
                shape(self.app, a_node, a_ptr, f"{where} parameter {app_name}"),
                f"{label} {where} parameter '{name}'",
                "request",
            )
        known = {renamed.get(n, n) if w == "path" else n for w, n in mine}
        for (where, name), (app_param, _) in theirs.items():
            if where == "query" and name not in known and app_param.get("required"):
                self.add(
                    op.op_ptr,
                    f"{label}: the app requires the query parameter '{name}', the contract lacks it",
                )

    # bodies
    @staticmethod
    def _json_schema(doc: dict[str, Any], holder: Any, ptr: Pointer) -> tuple[Any, Pointer, str] | None:
        """The JSON schema of a request body or response: (schema, its pointer, media type)."""
        holder, ptr = resolve(doc, holder, ptr)
        if not isinstance(holder, dict):
            return None
        if "schema" in holder and "content" not in holder:  # Swagger 2.0
            return holder["schema"], (*ptr, "schema"), "application/json"
        for media, body in _mapping(holder.get("content")).items():
            if "json" in str(media) and isinstance(body, dict) and "schema" in body:
                return body["schema"], (*ptr, "content", media, "schema"), str(media)
        return None

    def _contract_body(self, op: Operation) -> tuple[Any, Pointer] | None:
        if "requestBody" in op.op:
            return op.op["requestBody"], (*op.op_ptr, "requestBody")
        params = op.op.get("parameters")
        for index, raw in enumerate(params if isinstance(params, list) else []):
            param, ptr = resolve(self.doc, raw, (*op.op_ptr, "parameters", index))
            if isinstance(param, dict) and param.get("in") == "body":
                return {"required": param.get("required", False), "schema": param.get("schema")}, ptr
        return None

    def request_body(self, op: Operation) -> None:
        body = self._contract_body(op)
        app_body, _ = resolve(self.app, op.app_op.get("requestBody"), ())
        label = op.label
        if body is None:
            if isinstance(app_body, dict):
                severity: Severity = "error" if app_body.get("required") else "warning"
                self.add(
                    op.op_ptr,
                    f"{label}: the app expects a request body the contract does not declare",
                    severity,
                )
            return
        c_body, c_ptr = resolve(self.doc, body[0], body[1])
        if not isinstance(c_body, dict):
            return
        if not isinstance(app_body, dict):
            self.add(c_ptr, f"{label}: the contract declares a request body but the app takes none")
            return
        if app_body.get("required") and not c_body.get("required"):
            self.add(c_ptr, f"{label}: the request body is optional in the contract but required by the app")
        app_content = _mapping(app_body.get("content"))
        for media in _mapping(c_body.get("content")):
            if "json" not in str(media) and media not in app_content:
                self.add(
                    (*c_ptr, "content", media), f"{label}: the app does not accept {media} request bodies"
                )
        mine = self._json_schema(self.doc, c_body, c_ptr)
        theirs = self._json_schema(self.app, app_body, (*op.app_ptr, "requestBody"))
        if mine and not theirs:
            self.add(mine[1], f"{label}: the app's request body has no JSON schema")
        elif mine and theirs:
            self.schema(
                shape(self.doc, mine[0], mine[1], ""),
                shape(self.app, theirs[0], theirs[1], "request body"),
                f"{label} request body",
                "request",
            )

    def responses(self, op: Operation) -> None:
        app_responses = _mapping(op.app_op.get("responses"))
        label = op.label
        for code, response in _mapping(op.op.get("responses")).items():
            wanted = str(code).upper()
            if wanted == "DEFAULT":
                continue
            ptr = (*op.op_ptr, "responses", code)
            app_code = next(
                (
                    str(c)
                    for c in app_responses
                    if str(c) == wanted or (wanted.endswith("XX") and str(c)[:1] == wanted[:1])
                ),
                None,
            )
            if app_code is None:
                have = ", ".join(sorted(str(c) for c in app_responses)) or "none"
                self.add(
                    ptr,
                    f"{label}: status {code} is declared by the contract but not documented by the app "
                    f"(app: {have}; add it to the route's responses= or status_code=)",
                )
                continue
            mine = self._json_schema(self.doc, response, ptr)
            theirs = self._json_schema(
                self.app, app_responses[app_code], (*op.app_ptr, "responses", app_code)
            )
            if mine and not theirs:
                self.add(
                    mine[1], f"{label}: status {code} has a JSON body in the contract but none in the app"
                )
            elif mine and theirs:
                self.schema(
                    shape(self.doc, mine[0], mine[1], ""),
                    shape(self.app, theirs[0], theirs[1], f"response {app_code}"),
                    f"{label} response {code}",
                    "response",
                )
