"""``rnn-grade similarity ASSIGNMENT``: which submissions' answers are unusually alike.

    collect(...)  the notebooks: the course's autograded/ (or submitted/) folder, or a download
    code.py       the code each student wrote (answer cells and added cells)
    compare.py    winnowed fingerprints (copydetect), release and common code ignored
    report.py     HTML side by side and a CSV of scores

Everything runs on this machine; no code is sent anywhere. Similarity is a reason to look, not
a verdict (report.CAVEAT says so on every report).
"""

import glob
import os
from dataclasses import dataclass, field

from ..grading import rebuild_rules
from .code import read_student_code, release_code
from .compare import Pair, compare
from .report import CAVEAT, write_csv, write_html

__all__ = ["CAVEAT", "Pair", "SimilarityReport", "collect", "compare", "run"]


@dataclass
class SimilarityReport:
    assignment: str
    pairs: list[Pair]
    html: str
    csv: str
    compared: int
    no_code: list[str] = field(default_factory=list)
    unread: dict[str, str] = field(default_factory=dict)

    def text(self, top: int = 10) -> str:
        lines = [f"similarity of {self.assignment}: {self.compared} submissions compared "
                 "on this machine", CAVEAT, ""]
        for p in self.pairs[:top]:
            lines.append(f"  {p.score:4.0%}  {p.a} / {p.b}  ({p.score_a:.0%} of {p.a} in "
                         f"{p.b}, {p.score_b:.0%} of {p.b} in {p.a})")
        if not self.pairs:
            lines.append("  no pair shares code beyond the release and what most wrote")
        for s in self.no_code:
            lines.append(f"  no code of their own, not compared: {s}")
        for s, why in sorted(self.unread.items()):
            lines.append(f"  not read: {s}: {why}")
        lines += ["", f"report: {self.html}", f"scores: {self.csv}"]
        return "\n".join(lines)


def collect(course_root: str, assignment: str, source: str | None = None,
            releases: dict | None = None, assignments: list[str] | None = None,
            lms: str | None = None) -> dict[str, str]:
    """Student -> notebook path of ``assignment``.

    From ``source`` (a download or folder, mapped as ``rnn-grade autograde`` maps it), else the
    course's ``autograded/<student>/<assignment>/`` (answers by grade id, after grading), else
    ``submitted/<student>/<assignment>/``.
    """
    if source is not None:
        from ..lms.mapping import discover

        mapping = discover(source, assignments or [assignment], releases or {}, lms=lms)
        return {m.student: m.entry.path for m in mapping.submissions
                if m.assignment == assignment}
    for folder in ("autograded", "submitted"):
        found = sorted(glob.glob(os.path.join(course_root, folder, "*", assignment, "*.ipynb")))
        if found:
            by_student: dict[str, str] = {}
            for path in found:  # the assignment's own notebook first, if several
                student = path.split(os.sep)[-3]
                if student not in by_student or os.path.basename(path) == f"{assignment}.ipynb":
                    by_student[student] = path
            return by_student
    return {}


def run(assignment: str, notebooks: dict[str, str], release, out_dir: str,
        show: float = 0.3) -> SimilarityReport:
    """Compares the students' notebooks of one assignment; writes the HTML and CSV reports."""
    codes, unread = {}, {}
    for student, path in sorted(notebooks.items()):
        try:
            codes[student] = read_student_code(path, release)
        except rebuild_rules.Unreadable as e:
            unread[student] = str(e)
    pairs, no_code = compare(codes, release_code(release))
    os.makedirs(out_dir, exist_ok=True)
    html_path = write_html(assignment, pairs, codes, os.path.join(
        out_dir, f"similarity-{assignment}.html"), show=show, no_code=no_code, unread=unread)
    csv_path = write_csv(pairs, os.path.join(out_dir, f"similarity-{assignment}.csv"))
    return SimilarityReport(assignment, pairs, html_path, csv_path, len(codes) - len(no_code),
                            no_code, unread)
