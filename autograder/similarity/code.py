"""The code a student wrote in a notebook: answer cells and the code cells they added.

Read-only cells, test cells and the release's own cells are not the student's, and a cell
copied unchanged from the release is not either. Each cell is written as a block of Python
headed by a comment naming it (comments never count towards similarity), so the report can
show where a match sits. IPython magics and shell escapes become comments: they are not
Python, and the tokenizer would otherwise split them into noise.
"""

import re

from ..grading import rebuild_rules

_MAGIC = re.compile(r"^(\s*)([%!].*)$", re.M)


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _nbgrader(cell: dict) -> dict:
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def python(source: str) -> str:
    return _MAGIC.sub(r"\1# \2", source)


def release_code(release) -> str:
    """Every code cell of the release: the boilerplate no match may be built from."""
    return "\n\n".join(python(_source(c)) for c in release.cells if c.get("cell_type") == "code")


def student_code(cells: list[dict], release) -> str:
    """The student's own code in ``cells`` (a submission's or an autograded notebook's)."""
    stubs = {_nbgrader(c).get("grade_id"): _source(c).strip() for c in release.cells
             if _nbgrader(c).get("solution")}
    release_ids = {_nbgrader(c).get("grade_id") for c in release.cells} - {None}
    release_sources = {_source(c).strip() for c in release.cells}
    blocks = []
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        gid = _nbgrader(cell).get("grade_id")
        src = _source(cell)
        if gid in stubs:
            if src.strip() == stubs[gid]:
                continue  # left as handed out: nothing written
            label = gid
        elif gid in release_ids or src.strip() in release_sources or not src.strip():
            continue  # the release's cell, or a copy of one
        else:
            label = f"added cell {i}"
        blocks.append(f"# ---- {label} ----\n{python(src).rstrip()}\n")
    return "\n".join(blocks)


def read_student_code(path: str, release) -> str:
    """``student_code`` of a notebook file; rebuild_rules.Unreadable if it is not a notebook."""
    return student_code(rebuild_rules.read_cells(path), release)
