"""Grades back out: CSV files that Canvas's and Moodle's gradebook imports accept.

Both writers take ``Result`` rows (autograder/results.py: student, assignment, score, max,
status), so they work
the same behind ``rnn-grade export`` and behind an nbgrader ExportPlugin. Scores are the
gradebook's totals, manual grades from the formgrader included.

- A notebook that failed to grade leaves its cell EMPTY, never 0, and is listed in the summary;
  so does a student who submitted nothing (the LMS's own missing-work policy applies).
- Canvas (canvas-lms ``lib/gradebook_importer.rb``): first column ``Student``, second ``ID``,
  then ``SIS User ID``, ``SIS Login ID`` (and ``Integration ID``/``Root Account`` when the
  roster has them), ``Section`` last of the student columns, copied from the roster; one column
  per assignment titled as the roster's ``Title (id)`` column when one matches (Canvas matches
  by id), else the plain assignment name (Canvas creates it on import); an optional
  ``Points Possible`` row. Canvas reads an empty cell (or ``-``) as "no score".
- Moodle ("Import grades: CSV file", ``grade/import/csv``): an identifier column the import maps
  to a user field (``Email address``, ``ID number`` or ``Username``, in that order of choice),
  ``Full name`` for the reader, one column per assignment. Every row must name a Moodle user
  (one unknown identifier aborts the whole import), so only roster students are written, and a
  student with no score at all is left out rather than given empty cells, because Moodle
  imports an empty cell as "no grade" and would clear one entered by hand.
"""

import csv
import re
from dataclasses import dataclass, field

from ..lms import canvas
from ..lms.roster import Roster
from ..results import FAILED, NOT_SUBMITTED, Result


@dataclass
class ExportSummary:
    path: str
    columns: dict[str, str]  # assignment -> column title written
    empty: list[tuple[str, str, str]] = field(default_factory=list)  # student, assignment, why
    not_on_roster: list[str] = field(default_factory=list)  # graded students the LMS won't know
    left_out: list[str] = field(default_factory=list)  # roster students not written (Moodle)
    warnings: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"wrote {self.path}: " + ", ".join(f"{a} -> {c!r}"
                                                    for a, c in self.columns.items())]
        for student, a, why in self.empty:
            lines.append(f"  empty: {student} / {a}: {why}")
        for s in self.not_on_roster:
            lines.append(f"  not on the roster, not exported: {s}")
        for s in self.left_out:
            lines.append(f"  left out: {s}")
        lines += [f"  note: {w}" for w in self.warnings]
        return "\n".join(lines)


def _fmt(score: float) -> str:
    return f"{round(score, 2):g}"  # both LMSs keep two decimals


def _key(title: str) -> str:
    return re.sub(r"[\W_]+", "", title.casefold())  # "Tiny 1" and "tiny1" are one title


def _title_and_id(header: str) -> tuple[str, str]:
    m = re.fullmatch(r"(.*?)\s*\((\d+)\)", header)
    return (m[1], m[2]) if m else (header, "")


def canvas_columns(roster: Roster, assignments: list[str],
                   chosen: dict[str, str] | None = None) -> dict[str, str]:
    """Assignment -> Canvas column title: ``chosen``, else the roster's column of that title."""
    chosen = dict(chosen or {})
    existing = {_key(_title_and_id(h)[0]): h for h in roster.assignment_columns}
    for a in assignments:
        chosen.setdefault(a, existing.get(_key(a), a))
    return chosen


def canvas_student_columns(header: list[str]) -> list[str]:
    """The student columns to write, in an order Canvas's importer accepts.

    It reads ``SIS User ID`` only when ``SIS Login ID`` follows it, and ``Integration ID`` /
    ``Root Account`` only after both; ``Section`` must end the block. The first two columns
    are written ``Student`` and ``ID`` whatever the roster's spelling.
    """
    sis = [c for c in canvas.STUDENT_COLUMNS[2:6] if c in header]
    if sis:  # both SIS columns or neither (the other left empty)
        sis = ["SIS User ID", "SIS Login ID"] + [c for c in sis if c not in
                                                 ("SIS User ID", "SIS Login ID")]
    return ["Student", "ID", *sis, "Section"]


def _cells(grades: list[Result]) -> dict[tuple[str, str], Result]:
    return {(g.student, g.assignment): g for g in grades}


def _assignments(grades: list[Result], assignments: list[str] | None) -> list[str]:
    return assignments or sorted({g.assignment for g in grades})


def _cell(summary: ExportSummary, g: Result | None, student: str, assignment: str) -> str:
    if g is not None and g.score is not None and g.status != FAILED:
        return _fmt(g.score)
    why = (f"{FAILED}: no score (fix or regrade it, then export again)"
           if g is not None and g.status == FAILED else NOT_SUBMITTED)
    summary.empty.append((student, assignment, why))
    return ""


def canvas_csv(roster: Roster, grades: list[Result], out: str,
               assignments: list[str] | None = None, columns: dict[str, str] | None = None,
               points_possible: bool = False) -> ExportSummary:
    """Writes a CSV for Canvas's gradebook import (Grades > Import); see the module docstring."""
    assignments = _assignments(grades, assignments)
    titles = canvas_columns(roster, assignments, columns)
    summary = ExportSummary(out, titles)
    info = canvas_student_columns(roster.header)
    cells = _cells(grades)
    maxima = {g.assignment: g.max_score for g in grades if g.max_score is not None}
    for a, title in titles.items():
        if _title_and_id(title)[1] == "":
            known = ", ".join(map(repr, roster.assignment_columns))
            summary.warnings.append(
                f"{title!r} is not a column of the roster: Canvas will create a new assignment "
                "of that name on import" + (f"; to fill one of the roster's ({known}), name it: "
                                            f"--column {a}='<title (id)>'" if known else ""))
        pp = roster.points_possible.get(title)
        if pp and a in maxima and _fmt(float(pp)) != _fmt(maxima[a]):
            summary.warnings.append(
                f"{title!r} is worth {pp} points in Canvas but {_fmt(maxima[a])} here: "
                "scores are exported as they are" + (
                    "; the Points Possible row will change Canvas's" if points_possible else ""))
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(info + [titles[a] for a in assignments])
        if points_possible:
            w.writerow(["Points Possible"] + [""] * (len(info) - 1)
                       + [_fmt(maxima[a]) if a in maxima else "" for a in assignments])
        for s in roster.students:
            row = [s.name, s.lms_id] + [s.row.get(c, "") for c in info[2:]]
            w.writerow(row + [_cell(summary, cells.get((s.student, a)), s.student, a)
                              for a in assignments])
    on_roster = set(roster.by_student())
    summary.not_on_roster = sorted({g.student for g in grades} - on_roster)
    return summary


def moodle_csv(roster: Roster, grades: list[Result], out: str,
               assignments: list[str] | None = None,
               columns: dict[str, str] | None = None) -> ExportSummary:
    """Writes a CSV for Moodle's "Import grades: CSV file"; see the module docstring."""
    assignments = _assignments(grades, assignments)
    titles = {a: (columns or {}).get(a, a) for a in assignments}
    summary = ExportSummary(out, titles)
    ident = next((c for c in ("Email address", "ID number", "Username")
                  if any(s.row.get(c) for s in roster.students)), None)
    if ident is None:
        raise ValueError(f"the roster {roster.path!r} has no Email address, ID number or "
                         "Username: Moodle's grade import needs one of them to find students")
    summary.warnings.append(f"in Moodle, map from {ident!r} to the user field "
                            f"{'email' if ident == 'Email address' else ident!r}, and each "
                            "assignment column to its grade item")
    cells = _cells(grades)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([ident, "Full name"] + [titles[a] for a in assignments])
        for s in roster.students:
            if not s.row.get(ident):
                summary.left_out.append(f"{s.name}: no {ident} in the roster")
                continue
            values = [_cell(summary, cells.get((s.student, a)), s.student, a)
                      for a in assignments]
            if not any(values):
                summary.left_out.append(f"{s.student}: no score in any column (an empty cell "
                                        "would clear a grade entered in Moodle)")
                continue
            w.writerow([s.row[ident], s.name] + values)
    summary.not_on_roster = sorted({g.student for g in grades} - set(roster.by_student()))
    return summary
