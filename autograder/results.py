"""The result of grading one notebook, and the results file that keeps them between commands.

``Result`` is the one record of a graded (or ungraded) submission: grading makes it, ``--resume``
reads it back from the autograded notebook, the table and CSV print it, feedback and every export
read it. The results file (``<course>/autograder-results.json``, written by ``rnn-grade
autograde``) keeps each submission's status and reasons from the last run, which nbgrader's
gradebook has no place for; scores are read back from the gradebook by the exports, so manual
grades entered in nbgrader's formgrader show up there. ``save``/``load``/``read`` are its only
writer and readers.
"""

import json
import os
from dataclasses import asdict, dataclass, field, fields

# A submission's status.
GRADED = "graded"  # scored, nothing to look at
FLAGGED = "flagged"  # scored, but an instructor should read the reasons (repairs, cheats, crashes)
FAILED = "failed-to-grade"  # no score: the file could not be graded (the reasons say why)
NOT_SUBMITTED = "not submitted"  # a roster student sent no file for the assignment
SCORED = (GRADED, FLAGGED)  # the statuses whose score counts

# The verdict in an autograded notebook's metadata (--resume reads it back; the feedback template,
# feedback/templates/rnn_grade_feedback/index.html.j2, shows it under this name):
# {"status", "reasons", DIGEST_KEY: the SHA-256 of the file graded}.
VERDICT_KEY = "rnn_grade"
DIGEST_KEY = "submission_sha256"

RESULTS_FILE = "autograder-results.json"  # in the course folder


@dataclass
class Result:
    student: str
    assignment: str
    status: str
    reasons: list[str] = field(default_factory=list)
    score: float | None = None  # None: no score (failed to grade, not submitted)
    max_score: float | None = None
    cells: dict[str, float | None] = field(default_factory=dict)  # grade id -> score
    timings: dict[str, float] = field(default_factory=dict)
    autograded: str | None = None  # path of the executed notebook

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    @property
    def key(self) -> tuple[str, str]:
        return self.student, self.assignment

    @classmethod
    def from_dict(cls, d: dict) -> "Result":
        """A Result from its JSON form (unknown keys ignored, so older files still read)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def results_path(course_root: str) -> str:
    return os.path.join(course_root, RESULTS_FILE)


def read(path: str) -> list[Result]:
    """The results saved at ``path``; empty if nothing was graded yet."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [Result.from_dict(d) for d in json.load(f)]


def load(course_root: str) -> list[Result]:
    """The course's saved results."""
    return read(results_path(course_root))


def save(course_root: str, results: list[Result]) -> str:
    """Merges this run into the course's results file (other submissions' entries are kept)."""
    path = results_path(course_root)
    merged = {r.key: r for r in load(course_root)}
    merged.update({r.key: r for r in results})
    with open(path, "w") as f:
        json.dump([asdict(merged[k]) for k in sorted(merged)], f, indent=1)
    return path


def statuses(results: list[Result]) -> dict[tuple[str, str], str]:
    """(student, assignment) -> status."""
    return {r.key: r.status for r in results}
