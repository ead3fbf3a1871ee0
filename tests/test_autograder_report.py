"""The grade table never passes a notebook that could not be graded off as a real zero."""

from autograder.grading.table import table
from autograder.results import Result


def _row(text: str, student: str) -> list[str]:
    return next(line.split() for line in text.splitlines() if line.startswith(student + " "))


def test_failed_notebook_shows_no_score_and_marks_the_students_total_incomplete():
    results = [
        Result("ada", "a1", "graded", score=3.0, max_score=3.0),
        Result("ada", "a2", "failed-to-grade", ["not valid JSON"], score=None, max_score=2.0),
        Result("bob", "a1", "graded", score=0.0, max_score=3.0),
        Result("bob", "a2", "flagged", ["no points for square"], score=1.0, max_score=2.0),
    ]
    text = table(results)
    assert _row(text, "ada") == ["ada", "3/3", "-/2!", "3/5!"]
    assert _row(text, "bob") == ["bob", "0/3", "1/2*", "1/5"]  # a real zero is just 0
    assert "ada / a2: failed-to-grade: not valid JSON" in text
