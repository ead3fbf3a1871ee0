"""The generated course matches its source, and rnn-grade grades it right (the hidden checks in
its judge, into nbgrader's gradebook): the release as handed out scores 0, a full-marks
submission gets every autograded point."""

import shutil
import time

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.cli import main
from autograder.course.build import find_drift
from autograder.course.folder import COURSE_DIR, SOLUTIONS_DIR, Course
from autograder.grading.batch import autograde

IDS = Course(COURSE_DIR).assignments


def _copy_course(tmp_path, only, with_generated=False):
    """Assignment `only`'s source (and with_generated: release and solution) and the course's
    nbgrader_config.py, in tmp_path: the tests never touch the repository's gradebook."""
    course, solutions = tmp_path / "course", tmp_path / "solutions"
    shutil.copytree(COURSE_DIR / "source" / only, course / "source" / only)
    shutil.copy(COURSE_DIR / "nbgrader_config.py", course)
    if with_generated:
        shutil.copytree(COURSE_DIR / "release" / only, course / "release" / only)
        solutions.mkdir()
        shutil.copy(SOLUTIONS_DIR / f"{only}.ipynb", solutions)
    return course, solutions


def test_release_and_solutions_match_the_source():
    problems = find_drift(COURSE_DIR, SOLUTIONS_DIR)
    assert not problems, "Regenerate with `rnn-grade build`:\n" + "\n".join(problems)


def test_drift_check_lists_what_an_edited_source_leaves_behind(tmp_path, capsys):
    edited = IDS[0]
    course, solutions = _copy_course(tmp_path, only=edited, with_generated=True)
    path = course / "source" / edited / f"{edited}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].source += "\n# an edit after the last build"
    nbformat.write(notebook, path)

    assert main(["--course", str(course), "build", "--check", "--solutions", str(solutions)]) == 1
    printed = capsys.readouterr().out
    assert f"release/{edited}/{edited}.ipynb: differs" in printed
    assert f"solutions/{edited}.ipynb: cells differ" in printed
    assert "missing" not in printed


@pytest.mark.parametrize("assignment", IDS)
def test_release_hides_solutions_hidden_tests_and_rubrics(assignment):
    release = COURSE_DIR / "release" / assignment
    assert sorted(p.name for p in release.iterdir()) == [f"{assignment}.ipynb"]
    notebook = nbformat.read(release / f"{assignment}.ipynb", as_version=4)
    for cell in notebook.cells:
        for secret in ("BEGIN SOLUTION", "HIDDEN TESTS", "Rubric", "Model answer"):
            assert secret not in cell.source, f"{assignment}: the release shows {secret!r}"
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            stub = "raise NotImplementedError()" if cell.cell_type == "code" else "YOUR ANSWER HERE"
            assert stub in cell.source, f"{assignment} {meta['grade_id']}: no {stub!r} stub"


def _full_marks(release, source):
    """The release with every answer cell filled in from the instructor's source notebook."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = answers[meta["grade_id"]]
    return release


@pytest.mark.slow
# nbgrader 0.9.6's gradebook code trips SQLAlchemy 2's autoflush warning when it creates a
# submission (nbgrader/api.py:149, :2229); the submission is stored all the same.
@pytest.mark.filterwarnings("ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")
@pytest.mark.parametrize("assignment", IDS)
def test_rnn_grade_scores_release_zero_and_solution_full_marks(
    assignment, tmp_path, record_property, request
):
    course, _ = _copy_course(tmp_path, only=assignment)
    # nbgrader generate_assignment, in-process (saves ~5 s)
    Course(course).build_release([assignment])
    name = f"{assignment}.ipynb"
    release = nbformat.read(course / "release" / assignment / name, as_version=4)
    source = nbformat.read(course / "source" / assignment / name, as_version=4)
    for student in ("release_as_is", "full_marks"):
        (course / "submitted" / student / assignment).mkdir(parents=True)
    nbformat.write(release, course / "submitted" / "release_as_is" / assignment / name)
    nbformat.write(_full_marks(release, source),
                   course / "submitted" / "full_marks" / assignment / name)

    start = time.perf_counter()
    results = autograde(Course(str(course)), str(course / "submitted"), jobs=2, progress=False)
    assert [r.status for r in results] == ["graded", "graded"], [r.reasons for r in results]
    per_notebook = round((time.perf_counter() - start) / 2, 1)
    # Per-notebook grading time, for the report (junit XML) and `pytest --cache-show 'course/*/*'`.
    record_property("autograde_seconds_per_notebook", per_notebook)
    if getattr(request.config, "cache", None) is not None:  # absent under -p no:cacheprovider
        request.config.cache.set(f"course/autograde_seconds_per_notebook/{assignment}",
                                 per_notebook)
    print(f"{assignment}: rnn-grade autograde took {per_notebook:.1f} s per notebook")

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        blank = gradebook.find_submission_notebook(assignment, assignment, "release_as_is")
        scored = {g.name: g.auto_score for g in blank.grades if g.auto_score}
        assert not scored, f"{assignment}: the unanswered release earns points: {scored}"

        full = gradebook.find_submission_notebook(assignment, assignment, "full_marks")
        for grade in full.grades:
            if grade.cell.cell_type == "code":
                assert grade.auto_score == grade.max_score, (
                    f"{assignment} {grade.name}: {grade.auto_score}/{grade.max_score} for the "
                    "solution")
            else:  # a written answer waits for a person
                assert grade.needs_manual_grade, f"{assignment} {grade.name}"
        assert full.max_score > 0 and not full.flagged

    # As handed out, the notebook runs cleanly up to the first exercise, and then fails only
    # because that exercise is unanswered.
    graded = nbformat.read(course / "autograded" / "release_as_is" / assignment / name, 4)
    code = [c for c in graded.cells if c.cell_type == "code"]
    first_answer = next(i for i, c in enumerate(code)
                        if c.metadata.get("nbgrader", {}).get("solution"))
    errors = [(i, o) for i, c in enumerate(code) for o in c.outputs if o.output_type == "error"]
    assert errors, f"{assignment}: nothing fails in the unanswered release"
    index, error = errors[0]
    where = code[index].metadata.get("nbgrader", {}).get("grade_id", "an ungraded cell")
    assert index >= first_answer and error.ename == "NotImplementedError", (
        f"{assignment}: the release fails before its first exercise is answered, in {where}: "
        f"{error.ename}: {error.evalue}")
