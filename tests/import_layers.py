"""The import graph of the project's packages, read from their source (nothing is imported).

The packages form layers, lowest first; a module may import from its own layer and the layers
below it, never from one above. Every import statement counts, at module level or inside a
function (an import hidden in a function still ties the two modules together). ``from pkg import
name`` is an edge to ``pkg.name`` when that is a module, else to ``pkg`` itself; ``import a.b.c``
is an edge to ``a.b.c`` (the package ``__init__`` files it runs on the way are not counted).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Import:
    """One imported name (or module) of one import statement."""

    importer: str  # the importing module, dotted
    target: str  # the module it ties the importer to (one of the graph's modules)
    name: str  # what the statement names: a dotted module, or module.name for `from ... import`
    where: str  # path:line of the statement


def modules(root: Path, packages: list[str]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of ``packages`` under ``root``."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _known(dotted: str, known: dict[str, Path]) -> str | None:
    """The longest prefix of ``dotted`` that is one of the graph's modules."""
    parts = dotted.split(".")
    while parts:
        name = ".".join(parts)
        if name in known:
            return name
        parts.pop()
    return None


def _base(importer: str, path: Path, level: int) -> str:
    """The package a relative import of ``level`` dots starts from."""
    parts = importer.split(".")
    if not _is_package(path):
        parts.pop()
    return ".".join(parts[:len(parts) - (level - 1)] if level > 1 else parts)


def imports(root: Path, packages: list[str]) -> list[Import]:
    """Every import of a graph module by a graph module (imports of anything else are left out)."""
    known = modules(root, packages)
    found = []
    for importer, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(root)
        for node in ast.walk(tree):
            where = f"{rel}:{getattr(node, 'lineno', 0)}"
            for name in _names(node, importer, path):
                target = _known(name, known)  # the module itself, or the module holding the name
                if target is not None:
                    found.append(Import(importer, target, name, where))
    return found


def _names(node: ast.AST, importer: str, path: Path) -> Iterator[str]:
    """What one statement imports, as dotted names (module, or module.attribute)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
    elif isinstance(node, ast.ImportFrom):
        module = node.module or ""
        if node.level:
            base = _base(importer, path, node.level)
            module = f"{base}.{module}" if module else base
        for alias in node.names:
            yield module if alias.name == "*" else f"{module}.{alias.name}"


def package_of(module: str) -> str:
    return module.split(".")[0]


def against_direction(found: list[Import], layers: list[str]) -> list[str]:
    """Imports from a layer above the importer's (``layers`` lowest first)."""
    rank = {package: i for i, package in enumerate(layers)}
    return sorted(f"{i.where}: {i.importer} imports {i.name} ({package_of(i.importer)} may not "
                  f"import {package_of(i.target)})"
                  for i in found if rank[package_of(i.target)] > rank[package_of(i.importer)])


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def private_across(found: list[Import]) -> list[str]:
    """Private names (a part starting with one underscore) imported from another package."""
    return sorted(f"{i.where}: {i.importer} imports the private {i.name}"
                  for i in found if package_of(i.importer) != package_of(i.target)
                  and any(_private(part) for part in i.name.split(".")))


def cycles(found: list[Import]) -> list[str]:
    """Each import cycle inside one package (a strongly connected set of two or more modules,
    or a module that imports itself), with the imports that close it."""
    graph: dict[str, set[str]] = {}
    for i in found:
        if package_of(i.importer) == package_of(i.target):
            graph.setdefault(i.importer, set()).add(i.target)
            graph.setdefault(i.target, set())
    reports = []
    for component in _strongly_connected(graph):
        if len(component) > 1 or next(iter(component)) in graph[next(iter(component))]:
            inside = sorted({f"{i.where} -> {i.target}" for i in found
                             if i.importer in component and i.target in component})
            reports.append(" <-> ".join(sorted(component)) + ": " + "; ".join(inside))
    return sorted(reports)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm (iterative: a long chain of imports must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def problems(root: Path, layers: list[str]) -> dict[str, list[str]]:
    """Everything wrong with the layering of ``layers`` (packages under ``root``, lowest first)."""
    found = imports(root, layers)
    return {"cycles": cycles(found), "against the direction": against_direction(found, layers),
            "private names across packages": private_across(found)}
