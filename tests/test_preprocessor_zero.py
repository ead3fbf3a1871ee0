"""ZeroCheatedExercises on its own: an exercise caught cheating scores 0, the others keep theirs."""

import logging

from nbformat.v4 import new_output
from nbgrader.utils import determine_grade

from autograder.grading.scan_rules import Finding
from autograder.preprocessors import ZeroCheatedExercises
from nbgrader_notebooks import by_id, release, resources

LOG = logging.getLogger("test")


def zero(nb, **found):
    res = resources()
    findings = res["findings"]
    findings.exercise_of = {"square_values": "square", "add_values": "add"}
    findings.answer_sources = {"square": "", "add": ""}
    for key, value in found.items():
        setattr(findings, key, value) if key != "execution" else None
    for key, value in found.get("execution", {}).items():
        setattr(findings.execution, key, value)
    nb, res = ZeroCheatedExercises().preprocess(nb, res)
    scores = {gid: determine_grade(cell, LOG)[0] for gid, cell in by_id(nb).items()
              if gid.endswith("_values")}
    return scores, res["findings"].cheated


def test_a_static_finding_zeroes_its_exercise_only():
    scores, cheated = zero(release(), scan=[Finding("forbidden", "square", "square uses x")])
    assert scores == {"square_values": 0.0, "add_values": 1.0}
    assert cheated == {"square": ["square: square uses x"]}


def test_a_test_that_returns_partial_credit_still_scores_zero():
    nb = release()
    by_id(nb)["square_values"].outputs = [new_output(
        "execute_result", data={"text/plain": "2.0"}, execution_count=3)]
    scores, _ = zero(nb, scan=[Finding("monkeypatch", "square", "replaces numpy.allclose")])
    assert scores["square_values"] == 0.0


def test_something_replaced_before_a_test_ran_zeroes_that_tests_exercise():
    scores, cheated = zero(release(), execution={"patched": {"add_values": ["numpy.allclose"]}})
    assert scores == {"square_values": 2.0, "add_values": 0.0}
    assert "add" in cheated


def test_a_sandbox_refusal_in_an_answer_zeroes_its_exercise():
    scores, _ = zero(release(), execution={"sandbox": [
        {"kind": "reading course files", "path": "/course/gradebook.db", "cell": "square"}]})
    assert scores["square_values"] == 0.0


def test_the_course_forbid_error_zeroes_the_exercise():
    nb = release()
    by_id(nb)["add_values"].outputs = [new_output(
        "error", ename="ForbiddenCallError", evalue="add: you were asked to implement this",
        traceback=[])]
    scores, cheated = zero(nb)
    assert "add" in cheated and scores["add_values"] == 0.0


def test_suspicious_code_costs_no_points():
    scores, cheated = zero(release(), scan=[Finding("suspicious", "square", "calls exec()")])
    assert scores == {"square_values": 2.0, "add_values": 1.0} and not cheated
