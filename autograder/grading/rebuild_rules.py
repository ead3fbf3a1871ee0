"""Turn whatever a student handed in into the notebook nbgrader should grade, and say what changed.

The released notebook is the skeleton: every cell comes from it, in its order, with its nbgrader
metadata, except the answer cells (nbgrader ``solution`` cells), which come from the submission,
matched by grade id. So an edited, deleted, duplicated or reordered test cell, an edited read-only
cell and altered nbgrader metadata (schema version, grade ids, points) are all undone, and each
undo is reported. Cells the student added are kept where they were. nbgrader's OverwriteCells then
swaps the released test cells for the gradebook's versions, which hold the hidden tests.
"""

import copy
import json
import warnings
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode
from nbformat.validator import normalize
from nbformat.warnings import MissingIDFieldWarning
from nbgrader.utils import is_grade, is_solution


class Unreadable(Exception):
    """The file cannot be graded at all; the message says why, for the grade table."""


@dataclass
class Prepared:
    nb: NotebookNode
    notes: list[str] = field(default_factory=list)  # what was repaired, for table and feedback
    exercise_of: dict[str, str] = field(default_factory=dict)  # test grade id -> exercise name
    answer_sources: dict[str, str] = field(default_factory=dict)  # answer grade id -> code


def _nbg(cell) -> dict:
    # A submission's cells are untrusted JSON whose metadata may be of any type;
    # nbgrader.utils' is_grade/is_solution assume dicts, so they serve the release's cells only.
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbg if isinstance(nbg, dict) else {}


def _source(cell) -> str:
    src = cell.get("source", "") if isinstance(cell, dict) else ""
    return "".join(src) if isinstance(src, list) else str(src)


def _same(a: str, b: str) -> bool:
    def norm(s):
        return "\n".join(line.rstrip() for line in s.strip().splitlines())
    return norm(a) == norm(b)


def read_cells(path: str) -> list[dict]:
    """The submission's cells as plain dicts; Unreadable for empty, non-JSON or non-notebooks."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise Unreadable(f"cannot open the file: {e.strerror}") from None
    return parse_cells(raw)


def parse_cells(raw: bytes) -> list[dict]:
    """The cells of a notebook file's bytes; Unreadable for empty, non-JSON or non-notebooks."""
    if not raw.strip():
        raise Unreadable("the file is empty")
    try:
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError as e:
        raise Unreadable(f"not valid JSON (the notebook file is damaged): {e}") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise Unreadable("valid JSON but not a Jupyter notebook (no list of cells)")
    return [c for c in cells if isinstance(c, dict)]


def grade_ids(nb_or_cells) -> list[str]:
    cells = nb_or_cells.cells if hasattr(nb_or_cells, "cells") else nb_or_cells
    return [_nbg(c)["grade_id"] for c in cells if isinstance(_nbg(c).get("grade_id"), str)]


def which_assignment(cells: list[dict], releases: dict[str, NotebookNode]) -> str | None:
    """The assignment whose grade ids the submission shares most (None if it shares none)."""
    ids = set(grade_ids(cells))
    overlap = {a: len(ids & set(grade_ids(nb))) for a, nb in releases.items()}
    best = max(overlap, key=overlap.get, default=None)
    return best if best is not None and overlap[best] > 0 else None


def exercises(release: NotebookNode) -> dict[str, str]:
    """Maps each test cell to its exercise: the answer cell above it (or itself if none)."""
    out, current = {}, None
    for cell in release.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if is_solution(cell) and gid:
            current = gid
        elif is_grade(cell) and gid:
            out[gid] = current or gid
    return out


def rebuild(cells: list[dict], release: NotebookNode) -> Prepared:
    """The release skeleton with the submission's answers (see the module docstring)."""
    notes: list[str] = []
    release_ids = grade_ids(release)
    by_id: dict[str, dict] = {}
    seen_order: list[str] = []
    for cell in cells:
        gid = _nbg(cell).get("grade_id")
        if gid in release_ids:
            if gid in by_id:  # (nbgrader's DeduplicateIds keeps the last copy, silently)
                notes.append(f"cell {gid} appears twice (the first copy was graded)")
                continue
            by_id[gid] = cell
            seen_order.append(gid)
    expected_order = [g for g in release_ids if g in by_id]
    if seen_order != expected_order:
        notes.append("cells were reordered (the released order was restored)")

    # Cells the student added, keyed by the release grade id or source they follow.
    release_sources = {_source(c) for c in release.cells}
    extras: dict[str | None, list[dict]] = {}
    anchor = None
    for cell in cells:
        gid = _nbg(cell).get("grade_id")
        if gid in release_ids:
            anchor = gid
            continue
        if gid:
            notes.append(f"unknown grade id {gid!r} (treated as the student's own cell)")
        if _source(cell) in release_sources:
            continue  # a copy of a released cell (its metadata stripped or renamed): dropped
        if _source(cell).strip():
            extras.setdefault(anchor, []).append(cell)

    out: list[NotebookNode] = []
    previous = None  # the last graded cell: the student's added cells follow it
    answers: dict[str, str] = {}
    for rcell in release.cells:
        nbg = rcell.metadata.get("nbgrader", {})
        gid = nbg.get("grade_id")
        new = copy.deepcopy(rcell)
        sub = by_id.get(gid) if gid else None
        added = extras.pop(previous, []) if gid else []
        if gid and is_solution(rcell):
            if sub is not None:
                new.source = _source(sub)
            elif any(c.get("cell_type") == "code" for c in added):
                # The answer cell lost its metadata: the student's code in its place is it.
                new.source = "\n\n".join(_source(c) for c in added
                                          if c.get("cell_type") == "code")
                added = [c for c in added if c.get("cell_type") != "code"]
                notes.append(f"answer cell {gid} had lost its nbgrader metadata (matched by place)")
            else:
                notes.append(f"answer cell {gid} was deleted (graded as unanswered)")
            answers[gid] = new.source
        elif gid:
            kind = "test cell" if is_grade(rcell) else "read-only cell"
            if sub is None:
                notes.append(f"{kind} {gid} was deleted (restored and graded)")
            else:
                if not _same(_source(sub), _source(rcell)):
                    notes.append(f"{kind} {gid} was edited (restored and graded)")
                changed = [k for k in ("points", "grade", "solution", "locked", "schema_version")
                           if k in nbg and _nbg(sub).get(k) != nbg.get(k)]
                if changed or sub.get("cell_type") != rcell.cell_type:
                    notes.append(f"nbgrader metadata of {gid} was altered "
                                 f"({', '.join(changed) or 'cell type'}; restored)")
        out.extend(_student_cell(c) for c in added)  # just before the next graded cell
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
        out.append(new)
        if gid:
            previous = gid
    for leftover in extras.values():  # after the last graded cell (or before the first)
        out.extend(_student_cell(c) for c in leftover)

    notes = _collapse(notes)
    nb = nbformat.v4.new_notebook(metadata=copy.deepcopy(release.metadata))
    nb.cells = out
    with warnings.catch_warnings():  # nbformat warns about each cell id it has to add
        warnings.simplefilter("ignore", MissingIDFieldWarning)
        _, repaired = normalize(nb)  # nbformat's own repair: missing and duplicate cell ids
    nb = nbformat.from_dict(repaired)
    return Prepared(nb=nb, notes=notes, exercise_of=exercises(release), answer_sources=answers)


def _student_cell(cell: dict) -> NotebookNode:
    src = _source(cell)
    if cell.get("cell_type") == "code":
        return nbformat.v4.new_code_cell(src)
    return nbformat.v4.new_markdown_cell(src)


def _collapse(notes: list[str]) -> list[str]:
    """More than three repairs of one kind become one line, so the grade table stays readable."""
    out, groups = [], {}
    for note in notes:
        words = note.split(" ")
        if len(words) > 3 and words[1] == "cell":  # "<kind> cell <id> <what happened>"
            groups.setdefault((words[0], " ".join(words[3:])), []).append(words[2])
        else:
            out.append(note)
    for (kind, what), ids in groups.items():
        if len(ids) > 3:
            out.append(f"{len(ids)} {kind} cells {what.replace('was ', 'were ', 1)}: "
                       + ", ".join(ids))
        else:
            out.extend(f"{kind} cell {i} {what}" for i in ids)
    return out
