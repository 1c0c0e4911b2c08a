"""The import graph of `src/backend`, read with `ast` (nothing is imported).

Only imports that run count: those under `if TYPE_CHECKING:` are left out.
`from package import name` is an edge to `package.name` when that is a module,
else to the package itself (its `__init__` re-exports count).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src" / "backend"


@dataclass
class ImportGraph:
    """Modules of the package; `edges` within it, `external` top-level names."""

    edges: dict[str, set[str]] = field(default_factory=dict)
    external: dict[str, set[str]] = field(default_factory=dict)

    def reachable(self, start: str, *, with_packages: bool = True) -> set[str]:
        """Every module `start` runs on import, itself included.

        With `with_packages`, importing `a.b.c` also runs `a` and `a.b`.
        """
        seen: set[str] = set()
        todo = [start]
        while todo:
            module = todo.pop()
            if module in seen:
                continue
            seen.add(module)
            todo.extend(self.edges.get(module, ()))
            if with_packages:
                todo.extend(_parents(module))
        return seen

    def cycles(self) -> list[list[str]]:
        """Groups of modules that import each other (Tarjan's strongly
        connected components of more than one module, or a self-import)."""
        return [sorted(group) for group in _components(self.edges)]


def module_name(path: Path, source: Path = SOURCE) -> str:
    parts = list(path.relative_to(source.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def build(source: Path = SOURCE) -> ImportGraph:
    paths = {module_name(p, source): p for p in sorted(source.rglob("*.py"))}
    graph = ImportGraph()
    for module, path in paths.items():
        edges = graph.edges[module] = set()
        external = graph.external[module] = set()
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for target, names in _imports(ast.parse(path.read_text()), package):
            if target.split(".")[0] != "backend":
                external.add(target.split(".")[0])
                continue
            for name in names:
                edges.add(f"{target}.{name}" if f"{target}.{name}" in paths else target)
            if not names:
                while target not in paths:
                    target = target.rpartition(".")[0]
                edges.add(target)
    return graph


def _imports(tree: ast.Module, package: str) -> Iterator[tuple[str, list[str]]]:
    """(module, imported names) of every import that runs."""
    for node in _running(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            yield target, [alias.name for alias in node.names]


def _running(node: ast.AST) -> Iterator[ast.AST]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from (n for c in child.orelse for n in [c, *_running(c)])
            continue
        yield child
        yield from _running(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _parents(module: str) -> Iterator[str]:
    parts = module.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])


def _components(edges: dict[str, set[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1 or module in edges.get(module, ()):
                found.append(group)

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found
