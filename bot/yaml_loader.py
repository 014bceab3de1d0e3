"""The safe YAML loader every node-level reader uses: libyaml's when PyYAML has it built in."""

from __future__ import annotations

from typing import Any

import yaml

_BASE: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Each first character's implicit resolvers, then the wildcard ones, in PyYAML's order; taken when
# this module is imported, so resolvers added to PyYAML's classes later do not apply here.
_WILDCARD: tuple[tuple[str, Any], ...] = tuple(_BASE.yaml_implicit_resolvers.get(None, ()))
_IMPLICIT: dict[str, tuple[tuple[str, Any], ...]] = {
    key: (*found, *_WILDCARD) for key, found in _BASE.yaml_implicit_resolvers.items() if key is not None
}
_DEFAULTS: dict[type, str] = {
    yaml.ScalarNode: _BASE.DEFAULT_SCALAR_TAG,
    yaml.SequenceNode: _BASE.DEFAULT_SEQUENCE_TAG,
    yaml.MappingNode: _BASE.DEFAULT_MAPPING_TAG,
}


class _Loader(_BASE):  # type: ignore[misc]
    """The safe loader, with PyYAML's resolver steps for each node made cheap.

    The composer asks the resolver about every node: PyYAML's `resolve` joins two lists and looks
    at path resolvers the safe loader never has; `descend_resolver`/`ascend_resolver` only matter
    with those too. They were a tenth of libyaml's compose on an OpenAPI contract."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            for tag, regexp in _IMPLICIT.get(value[:1], _WILDCARD):
                if regexp.match(value):
                    return tag
        return _DEFAULTS.get(kind)

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


# libyaml parses ~20x faster than the pure-Python loader (a 100 kB scenario: 2 ms against 42 ms);
# both build the same nodes with the same marks, and SafeConstructor is the same class in both.
# A PyYAML whose safe loader had path resolvers would need their steps: its own class then.
SAFE_LOADER: Any = _BASE if _BASE.yaml_path_resolvers else _Loader

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = _TAG + "str", _TAG + "map", _TAG + "seq"
# Scalar tags whose value SafeConstructor builds alone, whatever node holds them (`=`, the value
# tag, and the merge key are rewritten by the mapping that holds them: those take the slow path).
_SCALARS = frozenset(_TAG + name for name in ("null", "bool", "int", "float", "timestamp", "binary"))


class _Slow(Exception):
    """The node tree needs SafeConstructor's own walk (merge keys, tagged collections, cycles)."""


def construct(loader: Any, node: Any) -> Any:
    """What `loader.construct_document(node)` returns, built without its generator machinery.

    Strings (most of an OpenAPI document) are taken from the nodes as they are; other scalars go
    through the loader's own constructors; a shared (aliased) node gives the same object, as
    PyYAML does. A tree this does not follow exactly is handed to construct_document."""
    memo: dict[int, Any] = {}
    building: set[int] = set()

    def build(item: Any) -> Any:
        if item.__class__ is yaml.ScalarNode:
            if item.tag == _STR:
                return item.value
            if item.tag not in _SCALARS:
                raise _Slow
            return loader.construct_object(item, deep=True)
        key = id(item)
        if key in memo:
            return memo[key]
        if key in building:
            raise _Slow  # a node that contains itself
        building.add(key)
        if item.__class__ is yaml.MappingNode and item.tag == _MAP:
            mapping: dict[Any, Any] = {}
            for key_node, value_node in item.value:
                name = build(key_node)
                if name.__class__ not in (str, int, float, bool) and name is not None:
                    raise _Slow  # SafeConstructor checks other keys for hashability itself
                mapping[name] = build(value_node)
            built: Any = mapping
        elif item.__class__ is yaml.SequenceNode and item.tag == _SEQ:
            built = [build(child) for child in item.value]
        else:
            raise _Slow
        building.discard(key)
        memo[key] = built
        return built

    try:
        return build(node)
    except (_Slow, RecursionError):
        return loader.construct_document(node)
