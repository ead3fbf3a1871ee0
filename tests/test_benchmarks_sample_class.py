"""The sample class the benchmarks and the demo grade: its typical mistakes are real mistakes.

A "typical mistake" submission that equals the correct one would let a benchmark report
agreement with nbgrader on a case that tests nothing. Each assignment of the course and of the
tiny test course gets at least one mistake from ``sample_class.MISTAKES``, and graded by
rnn-grade every one of them scores below full marks while the correct submission gets them.
"""

import shutil
from pathlib import Path

import nbformat
import pytest

import sample_class as samples
from autograder.course.folder import Course
from autograder.grading.batch import autograde
from autograder.grading.limits import Limits

REPO = Path(__file__).resolve().parents[1]
COURSES = {"course": REPO / "course", "tiny": REPO / "tests" / "fixtures" / "tiny_course"}
SOURCES = sorted((name, path) for name, root in COURSES.items()
                 for path in (root / "source").glob("*/*.ipynb"))


def _answers(nb):
    return [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]


@pytest.mark.parametrize("course, source", SOURCES, ids=[f"{c}-{p.stem}" for c, p in SOURCES])
def test_every_assignment_has_a_typical_mistake_that_changes_its_answers(course, source):
    nb = nbformat.read(source, as_version=4)
    assert samples.mistakes_in(nb), f"no typical mistake applies to {source.stem}: add one to " \
                                    "sample_class.MISTAKES"
    mistaken = samples.CASES["typical_mistake"](nbformat.from_dict(nb), None,
                                                {"mistakes": samples.MISTAKES})
    assert _answers(mistaken) != _answers(nbformat.read(source, as_version=4))


@pytest.mark.slow
def test_each_typical_mistake_of_the_course_scores_below_full_marks(tmp_path):
    shutil.copytree(REPO / "course" / "source", tmp_path / "course" / "source")
    shutil.copy(REPO / "course" / "nbgrader_config.py", tmp_path / "course")
    course = Course(str(tmp_path / "course"))
    course.build_release()
    samples.make_class(course, str(tmp_path / "class"), course.assignments, ["typical_mistake"])
    results = autograde(course, str(tmp_path / "class"), jobs=2, progress=False,
                        limits=Limits(cell_timeout=300, setup_timeout=300))
    scored = {r.assignment: (r.status, r.score, r.max_score) for r in results}
    assert set(scored) == set(course.assignments), scored
    for assignment, (status, score, max_score) in scored.items():
        assert status in ("graded", "flagged"), (assignment, status, results)
        assert max_score and 0 <= score < max_score, (assignment, score, max_score)
