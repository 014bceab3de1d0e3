"""The house stays as drawn: stages in dependency order, no cycles, no borrowed privates, small modules."""

from __future__ import annotations

import ast
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"
MAX_LINES = 400
MAX_MEDIAN = 150

# Each package may import only packages of a lower rank (and itself). The ground floor is flat:
# the modules directly under bot/. A stage that needs a higher one gets the value passed in.
RANKS: dict[str, int] = {
    "ground": 0,
    "git": 1,
    "speckit": 2,
    "sandbox": 2,
    "github": 2,
    "trigger": 3,
    "agent": 3,
    "gates": 4,
    "report": 5,
    "pipeline": 6,
    "eval": 7,
    "cli": 8,
    "main": 9,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(BOT.rglob("*.py"))}


def package_of(name: str) -> str:
    """The stage a module belongs to: its first package under bot/, or the ground floor."""
    parts = name.split(".")
    if name == "bot.__main__":
        return "main"
    if len(parts) >= 3 or (len(parts) == 2 and (BOT / parts[1]).is_dir()):
        return parts[1]
    return "ground"


def imports(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, str, int]]:
    """(imported module, imported name or '', line) for every import of a bot module, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "bot":
                    yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([source] if source else [])])
            if source.split(".")[0] != "bot":
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in known:
                    yield sub, "", node.lineno
                else:
                    yield source, alias.name, node.lineno


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for target, _, _ in imports(name, path, known):
            if target in known and target != name:
                edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_cycle_finder_sees_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_stage_imports_a_higher_one() -> None:
    climbs = []
    for source, targets in graph().items():
        here = package_of(source)
        for target in targets:
            there = package_of(target)
            if there != here and RANKS[there] >= RANKS[here] and not (here == there == "ground"):
                climbs.append(f"{source} ({here}) imports {target} ({there})")
    assert climbs == []


def test_every_module_belongs_to_a_ranked_stage() -> None:
    assert sorted({package_of(m) for m in modules()} - set(RANKS)) == []


def test_no_private_name_is_borrowed() -> None:
    """`from m import _x` and `m._x` reach into another module; make the name public or move it."""
    mods = modules()
    known = set(mods)
    borrowed = []
    for name, path in mods.items():
        for target, imported, line in imports(name, path, known):
            if imported.startswith("_") and not imported.startswith("__") and target != name:
                borrowed.append(f"{path.relative_to(BOT.parent)}:{line}: {target}.{imported}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot")
            for alias in node.names
            if f"{node.module}.{alias.name}" in known
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                borrowed.append(f"{path.relative_to(BOT.parent)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert borrowed == []


def test_modules_stay_small() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    too_big = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert too_big == {}
    assert statistics.median(sizes.values()) < MAX_MEDIAN


@pytest.mark.parametrize("package", sorted(p.name for p in BOT.iterdir() if (p / "__init__.py").is_file()))
def test_each_package_says_what_it_owns(package: str) -> None:
    doc = ast.get_docstring(ast.parse((BOT / package / "__init__.py").read_text(encoding="utf-8")))
    assert doc, f"bot/{package}/__init__.py needs a one-line docstring"
    assert "\n" not in doc.strip()


def test_the_architecture_page_lists_every_package_with_its_docstring() -> None:
    page = (BOT.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for init in sorted(BOT.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert f"| `{init.parent.name}/` | {doc} |" in page, init.parent.name
