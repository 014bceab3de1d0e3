"""Owned models read from the source: SQLModel and SQLAlchemy declarative tables with an owner field."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from bot.gates.static_index import Module
from bot.gates.static_routes import SourceIndex

OWNER_FIELDS = ("user_id", "owner_id", "owner")


_USER_FOREIGN_KEY = re.compile(r"(?i)^\w*users?\.\w+$")
# What a module's text must hold for _table_class to find a table in it; the rest are not parsed.
TABLE_TEXT = re.compile(rb"\btable\s*=\s*\(*\s*True\b|__tablename__")


@dataclass(frozen=True)
class OwnedModel:
    """A SQLModel or SQLAlchemy declarative table whose rows belong to a user."""

    name: str
    module: str
    owner: str


def _table_class(node: ast.ClassDef) -> bool:
    """A SQLModel `table=True` class, or a SQLAlchemy declarative one (it names its `__tablename__`)."""
    if any(
        k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in node.keywords
    ):
        return True
    names = {
        target.id
        for item in node.body
        if isinstance(item, ast.Assign | ast.AnnAssign)
        for target in (item.targets if isinstance(item, ast.Assign) else [item.target])
        if isinstance(target, ast.Name)
    }
    abstract = any(
        isinstance(item, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__abstract__" for t in item.targets)
        and isinstance(item.value, ast.Constant)
        and item.value.value is True
        for item in node.body
    )
    return "__tablename__" in names and not abstract


def _user_key(value: ast.expr | None) -> bool:
    """Field(foreign_key="user.id"), Column(ForeignKey("users.id")), mapped_column(ForeignKey(...))."""
    for node in ast.walk(value) if value is not None else ():
        if not isinstance(node, ast.Call):
            continue
        candidates = [k.value for k in node.keywords if k.arg == "foreign_key"]
        func = node.func
        if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) == "ForeignKey":
            candidates += node.args[:1]
        if any(
            isinstance(c, ast.Constant) and isinstance(c.value, str) and _USER_FOREIGN_KEY.match(c.value)
            for c in candidates
        ):
            return True
    return False


def _owner_field(index: SourceIndex, module: Module, node: ast.ClassDef, depth: int = 0) -> str | None:
    for item in node.body:
        if (
            isinstance(item, ast.AnnAssign)
            and isinstance(item.target, ast.Name)
            and (item.target.id in OWNER_FIELDS or _user_key(item.value))
        ):
            return item.target.id
        if isinstance(item, ast.Assign):  # SQLAlchemy: user_id = Column(ForeignKey("users.id"))
            for target in item.targets:
                if isinstance(target, ast.Name) and (target.id in OWNER_FIELDS or _user_key(item.value)):
                    return target.id
    for base in node.bases if depth < 10 else ():
        ref = index.evaluate(module, base)
        if ref is not None and ref.kind == "class" and ref.module is not None:
            found = _owner_field(index, ref.module, ref.node, depth + 1)
            if found:
                return found
    return None


def owned_models(index: SourceIndex) -> dict[tuple[str, str], OwnedModel]:
    """Table classes (SQLModel `table=True`, SQLAlchemy `__tablename__`) with an owner field: user_id,
    owner_id, owner, or a foreign key to a user/users table."""
    found = {}
    for module in index.modules(TABLE_TEXT):
        for node in module.tree.body:
            if isinstance(node, ast.ClassDef) and _table_class(node):
                owner = _owner_field(index, module, node)
                if owner:
                    found[(module.name, node.name)] = OwnedModel(node.name, module.name, owner)
    return found
