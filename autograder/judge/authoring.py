"""What `rnn-grade build --check` says about a notebook's hidden checks: each one runs
in the judge, which sees only the set-up cells' names, the answers (through proxies), builtins
and what earlier hidden blocks defined, never what the visible part of a cell computed."""

from __future__ import annotations

import builtins

import nbformat
from nbgrader.utils import is_grade, is_solution

from . import hidden


def _grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id") or "a cell"


def hidden_check_problems(notebook: nbformat.NotebookNode, label: str) -> list[str]:
    """One line per name a hidden block reads that the judge would not have."""
    known = set(dir(builtins)) | {"__name__"}
    problems = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if _grade_id(cell).startswith("setup_") or is_solution(cell):
            known |= set(hidden.defined_names(cell.source))
    for cell in notebook.cells:
        if cell.cell_type != "code" or not is_grade(cell) or not hidden.has_hidden(cell.source):
            continue
        _, block = hidden.split(cell.source)
        known |= hidden.names_bound(block)
        for name in sorted(hidden.names_read(block) - known):
            problems.append(f"{label}: the hidden checks of {_grade_id(cell)} use {name!r}, which "
                            "no answer or set-up cell defines (the judge sees only those)")
    return problems
