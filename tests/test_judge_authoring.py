"""`rnn-grade build --check` reports a hidden check that reads a name the judge does
not have: not an answer, not a set-up name, not defined by an earlier hidden block (say, a value
the visible part of the cell computed in the kernel)."""

import shutil

import nbformat
from nbformat.v4 import new_code_cell

from autograder.cli import main
from autograder.course.folder import COURSE_DIR, SOLUTIONS_DIR
from autograder.judge.authoring import hidden_check_problems

ASSIGNMENT = "rnn1_forward"


def _source():
    return nbformat.read(COURSE_DIR / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)


def _add_hidden_line(notebook, grade_id, line):
    cell = next(c for c in notebook.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = cell.source.replace("### END HIDDEN TESTS", f"{line}\n### END HIDDEN TESTS", 1)


def test_the_course_s_hidden_checks_read_only_what_the_judge_has():
    assert hidden_check_problems(_source(), ASSIGNMENT) == []


def test_a_name_only_the_visible_part_defines_and_a_missing_answer_are_reported():
    notebook = _source()
    _add_hidden_line(notebook, "rnn_forward_matches_keras",
                     "assert_close(h, keras_rnn_states(x, h0, W_x, W_h, b), name='h')")
    _add_hidden_line(notebook, "rnn_param_count_matches_keras", "rnn_parameter_count(3, 4)")
    problems = hidden_check_problems(notebook, ASSIGNMENT)
    assert any("rnn_forward_matches_keras use 'h'" in p for p in problems)
    assert any("rnn_param_count_matches_keras use 'rnn_parameter_count'" in p for p in problems)
    # names an earlier hidden block, a set-up cell or an answer defines are the judge's
    assert not any(n in p for p in problems for n in ("'check'", "'np'", "'rnn_forward'"))


def test_build_check_prints_the_problem_and_fails(tmp_path, capsys):
    course, solutions = tmp_path / "course", tmp_path / "solutions"
    shutil.copytree(COURSE_DIR / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    shutil.copytree(COURSE_DIR / "release" / ASSIGNMENT, course / "release" / ASSIGNMENT)
    shutil.copy(COURSE_DIR / "nbgrader_config.py", course)
    solutions.mkdir()
    shutil.copy(SOLUTIONS_DIR / f"{ASSIGNMENT}.ipynb", solutions)
    path = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    _add_hidden_line(notebook, "rnn_param_count_matches_keras", "rnn_parameter_count(3, 4)")
    notebook.cells.append(new_code_cell("# an ungraded cell"))
    nbformat.write(notebook, path)
    assert main(["--course", str(course), "build", "--check", "--solutions", str(solutions)]) == 1
    assert "rnn_param_count_matches_keras use 'rnn_parameter_count'" in capsys.readouterr().out
