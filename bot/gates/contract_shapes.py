"""Schemas compared: a contract's request or response shape against the app's, field by field."""

from __future__ import annotations

from typing import Any

from bot.gates import Finding, Severity
from bot.gates.contract_schema import MAX_DEPTH, Contract, Pointer, Shape, enum_values, shape

# FastAPI's own 422 schema gains fields with its version; they are not the contract's business.
FASTAPI_EXTRAS = {"ValidationError": frozenset({"input", "ctx", "url"})}


class ShapeComparison:
    """Findings point into the contract; Comparison adds paths, parameters, bodies and responses."""

    def __init__(self, contract: Contract, app: dict[str, Any]) -> None:
        self.contract = contract
        self.doc = contract.data
        self.app = app
        self.findings: list[Finding] = []
        self.matched: set[tuple[str, str]] = set()
        self._seen: set[tuple[Pointer, str, str]] = set()

    def add(self, ptr: Pointer, message: str, severity: Severity = "error", rule: str = "contract") -> None:
        self.findings.append(Finding(message, self.contract.path, self.contract.line(ptr), severity, rule))

    # schemas
    def schema(self, c: Shape, a: Shape, where: str, direction: str, depth: int = 0) -> None:
        """Compare a contract schema with the app's; `direction` is 'request' (client sends) or 'response'."""
        key = (c.ptr, a.label + str(a.ptr), direction)
        if key in self._seen or depth > MAX_DEPTH:
            return
        self._seen.add(key)
        app_side = f"(app: {a.label})" if a.label else ""
        c_types, a_types = c.all_types(), a.all_types()
        if c_types and a_types and c_types != a_types:
            loose = {c_types, a_types} == {frozenset({"integer"}), frozenset({"number"})}
            self.add(
                c.ptr,
                f"{where}: type {c.type_text()} in the contract, {a.type_text()} in the app {app_side}",
                "warning" if loose else "error",
                "contract-type",
            )
            return
        if direction == "response" and a.nullable and not c.nullable:
            self.add(c.ptr, f"{where}: the app may return null, the contract does not allow it {app_side}")
        if direction == "request" and c.nullable and not a.nullable and a_types:
            self.add(c.ptr, f"{where}: the contract allows null, the app rejects it {app_side}")
        if c.alternatives or a.alternatives:
            return
        c_format, a_format = c.node.get("format"), a.node.get("format")
        if c_format and a_format and c_format != a_format:
            self.add(c.ptr, f"{where}: format {c_format} in the contract, {a_format} in the app {app_side}")
        self._enums(c, a, where, direction, app_side)
        if "object" in c_types:
            self._properties(c, a, where, direction, depth)
        if "array" in c_types and "items" in c.node and "items" in a.node:
            self.schema(
                shape(self.doc, c.node["items"], (*c.ptr, "items"), ""),
                shape(self.app, a.node["items"], (*a.ptr, "items"), f"{a.label}[]"),
                f"{where}[]",
                direction,
                depth + 1,
            )

    def _enums(self, c: Shape, a: Shape, where: str, direction: str, app_side: str) -> None:
        c_enum, a_enum = enum_values(c.node), enum_values(a.node)
        if c_enum is None or a_enum is None:
            if c_enum is not None and direction == "response":
                self.add(
                    c.ptr,
                    f"{where}: the contract lists allowed values, the app does not restrict them {app_side}",
                    "warning",
                )
            return
        outside = a_enum - c_enum if direction == "response" else c_enum - a_enum
        if outside:
            verb = "may return" if direction == "response" else "rejects"
            self.add(
                c.ptr,
                f"{where}: the app {verb} values outside the contract's enum: "
                f"{', '.join(sorted(outside))} {app_side}",
            )

    def _properties(self, c: Shape, a: Shape, where: str, direction: str, depth: int) -> None:
        c_props, a_props = c.node.get("properties"), a.node.get("properties")
        if not isinstance(c_props, dict) or not isinstance(a_props, dict):
            return
        c_required = set(c.node.get("required") or [])
        a_required = set(a.node.get("required") or [])
        app_side = f"(app: {a.label})" if a.label else ""
        for name, sub in c_props.items():
            ptr = (*c.ptr, "properties", name)
            if name not in a_props:
                if direction == "response":
                    required = name in c_required
                    self.add(
                        ptr,
                        f"{where}: field '{name}'{' (required)' if required else ''} is missing from the "
                        f"app's response {app_side}",
                        "error" if required else "warning",
                    )
                else:
                    self.add(ptr, f"{where}: field '{name}' is not accepted by the app {app_side}")
                continue
            if direction == "response" and name in c_required and name not in a_required:
                self.add(
                    ptr,
                    f"{where}: field '{name}' is required in the contract but optional in the app {app_side}",
                    "warning",
                )
            if direction == "request" and name in a_required and name not in c_required:
                self.add(
                    ptr,
                    f"{where}: field '{name}' is optional in the contract but required by the app {app_side}",
                )
            self.schema(
                shape(self.doc, sub, ptr, ""),
                shape(self.app, a_props[name], (*a.ptr, "properties", name), f"{a.label}.{name}"),
                f"{where}.{name}",
                direction,
                depth + 1,
            )
        ignored = FASTAPI_EXTRAS.get(a.label.removeprefix("schema "), frozenset())
        for name in a_props:
            if name in c_props or name in ignored:
                continue
            if direction == "response":
                self.add(
                    c.ptr,
                    f"{where}: the app returns field '{name}' the contract does not declare {app_side}",
                    "warning",
                )
            elif name in a_required:
                self.add(
                    c.ptr,
                    f"{where}: the app requires field '{name}' the contract does not declare {app_side}",
                )
