"""Reading a test cell: its visible part (what the kernel runs) and its hidden blocks (what the
judge runs), and the names a notebook's answer cells define."""

from __future__ import annotations

import ast
import textwrap

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
# Assignments whose hidden blocks run in the kernel, as before the judge (the kernel then gets the
# grader's packages mounted). None of the course's: the tests' negative controls add one to show
# what that design leaks.
HIDDEN_IN_KERNEL: set[str] = set()


def split(source: str) -> tuple[str, str]:
    """(visible part, hidden part): the lines outside and inside the hidden-test markers (the
    visible part is what nbgrader's ClearHiddenTests leaves)."""
    visible, hidden, blocks, inside = [], [], [], False
    for line in source.splitlines():
        if line.strip().startswith(BEGIN):
            inside = True
        elif line.strip().startswith(END):
            inside = False
            blocks.append(textwrap.dedent("\n".join(hidden)))
            hidden = []
        elif inside:
            hidden.append(line)
        else:
            visible.append(line)
    if hidden:  # an unclosed block: nbgrader refuses it at release, but never run it in the kernel
        blocks.append(textwrap.dedent("\n".join(hidden)))
    return "\n".join(visible), "\n".join(b for b in blocks if b.strip())


def has_hidden(source: str) -> bool:
    return BEGIN in source


def hidden_comes_first(source: str) -> bool:
    """Whether a test cell's hidden checks run before any of its visible code (only comments and
    a docstring stand before the first hidden block)."""
    if BEGIN not in source:
        return False
    try:
        before = ast.parse(source[:source.index(BEGIN)]).body
    except SyntaxError:
        return False
    return all(isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in before)


def defined_names(source: str) -> dict[str, str]:
    """Top-level names a cell defines: {name: "function" | "class" | "value"} (empty when the
    cell does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = "function"
        elif isinstance(node, ast.ClassDef):
            out[node.name] = "class"
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name):
                        out.setdefault(sub.id, "value")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                out.setdefault((alias.asname or alias.name).split(".")[0], "value")
    return out


def names_read(source: str) -> set[str]:
    """Every name a piece of code reads (loads), anywhere in it."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def names_bound(source: str) -> set[str]:
    """Every name a piece of code binds anywhere (assignments, defs, imports, loop targets, ...)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Lambda):
            out.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
    return out
