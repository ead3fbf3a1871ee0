"""Mistaken answers written as students write them (tests/test_mistakes_written.py), graded end
to end in one batch of all four assignments: `rnn-grade release`, then `rnn-grade autograde
--feedback` under bubblewrap (the kernel runs the visible checks, the judge the hidden ones),
nbgrader's gradebook, and the feedback pages.

A submission holds the solution's answers except a few exercises' answers, which are written
mistakes or right answers in unusual forms. Exercises that call one another, or share a graded
cell, are never mistaken in the same submission, so for each written mistake: the first failing
message of its exercise names the mistake and its feedback page shows it; its exercise loses the
points of the cell that grades it against the catalogue, and no right exercise of the submission
(its neighbours included) loses any. Right answers in unusual forms keep every point. Packing
unrelated exercises into one submission keeps the batch to a few notebooks per assignment.
"""

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from nbgrader_notebooks import with_answers
from tests.test_mistakes_written import EXERCISES, NEIGHBOURS, RIGHT_UNUSUAL, WRITTEN, Written

COURSE_DIR = Path(__file__).resolve().parents[1] / "course"
NOTEBOOKS = {"rnn1": "rnn1_forward", "rnn2": "rnn2_bptt", "rnn3": "rnn3_clipping",
             "rnn4": "rnn4_configurations"}
# Each exercise: (its answer cell, the graded cell whose hidden test runs the catalogue first,
# the exercise's other graded cells). rnn3 and rnn4's other cells test properties that not every
# mistake breaks (a clipping slip below the threshold, a builder that still learns its task), so
# there a mistake may cost them or not; rnn1 and rnn2's mistakes fail all of them.
CELLS = {
    "rnn_step_forward": ("rnn_step_forward_answer", "rnn_step_forward_matches_keras",
                         ("rnn_step_forward_other_shapes",)),
    "rnn_forward": ("rnn_forward_answer", "rnn_forward_matches_keras",
                    ("rnn_forward_other_shapes",)),
    "rnn_param_count": ("rnn_param_count_answer", "rnn_param_count_matches_keras", ()),
    "to_column_layout": ("to_column_layout_answer", "to_column_layout_matches_keras", ()),
    "rnn_step_backward": ("rnn_step_backward_answer", "rnn_step_backward_matches_tape",
                          ("rnn_step_backward_other_shapes",)),
    "rnn_backward": ("rnn_backward_answer", "rnn_backward_matches_finite_differences",
                     ("rnn_backward_matches_tape", "rnn_backward_other_shapes")),
    "jacobian_norms": ("jacobian_norms_answer", "jacobian_norms_matches_batch_jacobian",
                       ("jacobian_norms_other_shapes",)),
    "tanh_slope": ("tanh_slope_answer", "tanh_slope_matches_tape", ()),
    "clip_by_global_norm": ("clip_by_global_norm_answer", "clip_above_threshold_matches_tf",
                            ("clip_below_threshold_unchanged", "clip_by_global_norm_hidden_cases",
                             "clip_never_enlarges_a_gradient")),
    "train_step": ("train_step_answer", "train_step_matches_one_tf_step",
                   ("train_step_uses_your_clipping",)),
    "clipped_step_bound": ("cliff_reading_answer", "cliff_jump_and_step_bound", ()),
    "build_many_to_one": ("build_many_to_one_answer", "many_to_one_shapes",
                          ("many_to_one_learns_sentiment",)),
    "build_one_to_many": ("build_one_to_many_answer", "one_to_many_shapes",
                          ("one_to_many_learns_waveform",)),
    "build_many_to_many": ("build_many_to_many_answer", "many_to_many_shapes_and_causality",
                           ("many_to_many_learns_running_tags",
                            "bidirectional_beats_unidirectional_on_next_input_tags")),
    "build_bidirectional_tagger": ("build_bidirectional_tagger_answer",
                                   "bidirectional_tagger_shapes_and_lookahead",
                                   ("bidirectional_beats_unidirectional_on_next_input_tags",)),
    "build_encoder_decoder": ("build_encoder_decoder_answer", "encoder_decoder_shapes_and_context",
                              ("encoder_decoder_reverses_digits",)),
}
ALL_CELLS_FAIL = {"rnn1", "rnn2"}
# Never mistaken in the same submission: exercises that call one another, and the two taggers,
# which the bidirectional-beats-unidirectional cell grades together.
APART = {**{e: set(n) for e, n in NEIGHBOURS.items()},
         "build_many_to_many": {"build_bidirectional_tagger"},
         "build_bidirectional_tagger": {"build_many_to_many"}}
# The batch: rnn1 and rnn2 as before (a step, a loop with the step inline, a fixed-length loop
# filled two ways, a loop slip, a count, a layout, BPTT slips, a norm, a slope); in rnn3 and rnn4
# five written mistakes of every coded exercise, in forms unlike the model answers.
PICKED = [("rnn_step_forward", "recurrent_transposed"), ("rnn_forward", "step_sigmoid"),
          ("rnn_forward", "fixed_length"), ("rnn_forward", "state_before_step"),
          ("rnn_param_count", "recurrent_as_input"), ("to_column_layout", "swapped"),
          ("rnn_step_backward", "bias_not_summed"), ("rnn_backward", "step_no_tanh_derivative"),
          ("rnn_backward", "step_bias_not_summed"), ("rnn_backward", "no_carry"),
          ("jacobian_norms", "frobenius"), ("tanh_slope", "tanh_again"),
          *[("clip_by_global_norm", k) for k in ("per_tensor", "no_square_root", "always_scales",
                                                 "drops_none", "float64_output")],
          *[("train_step", k) for k in ("applies_unclipped", "loss_after_update",
                                        "per_tensor_clipping", "clipping_no_square_root",
                                        "no_norm_without_clipping")],
          *[("clipped_step_bound", k) for k in ("threshold_over_rate", "rate_over_threshold",
                                                "threshold_only", "rate_only",
                                                "threshold_squared")],
          *[(w.exercise, w.key) for w in WRITTEN if w.assignment == "rnn4"]]
MISTAKES = [next(w for w in WRITTEN if (w.exercise, w.key) == picked) for picked in PICKED]
RIGHTS = [w for w in RIGHT_UNUSUAL if w.exercise in CELLS]


def _pack(entries: list[Written]) -> list[list[Written]]:
    """The fewest submissions (greedily) holding every entry, at most one per exercise in each,
    and no mistake next to a mistaken exercise it must stay apart from."""
    submissions: list[list[Written]] = []
    for entry in entries:
        for held in submissions:
            if entry.exercise in {w.exercise for w in held}:
                continue
            apart = APART.get(entry.exercise, set())
            if entry.key and any(w.key and w.exercise in apart for w in held):
                continue
            held.append(entry)
            break
        else:
            submissions.append([entry])
    return submissions


BATCH = {f"{assignment}-{i + 1:02d}": held for assignment in NOTEBOOKS for i, held in
         enumerate(_pack([w for w in MISTAKES + RIGHTS if w.assignment == assignment]))}
WHERE = {(w.exercise, w.key, w.source): student for student, held in BATCH.items() for w in held}


def _answer_cell(written: Written, source_cell: str) -> str:
    """The answer cell holding `written`: clipped_step_bound shares its cell with two readings of
    the cliff, which keep the solution's values."""
    if written.exercise != "clipped_step_bound":
        return written.source.strip() + "\n"
    function = re.compile(r"def clipped_step_bound\(.*?### END SOLUTION\n", re.S)
    assert function.search(source_cell), "the solution's clipped_step_bound is not where expected"
    return function.sub(lambda _: written.source.strip() + "\n", source_cell)


def _rnn_grade(*args: str) -> None:
    command = [str(Path(sys.executable).with_name("rnn-grade")), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, (command, done.stdout[-4000:], done.stderr[-4000:])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{"results": {student: {grade_id: (score, max score, first error message)}}, "pages":
    {student: the feedback page's text}}: the whole batch in one autograde run."""
    course = tmp_path_factory.mktemp("course")
    for assignment in NOTEBOOKS.values():
        shutil.copytree(COURSE_DIR / "source" / assignment, course / "source" / assignment)
    shutil.copy(COURSE_DIR / "nbgrader_config.py", course)
    _rnn_grade("--course", str(course), "release", *NOTEBOOKS.values())
    for student, held in BATCH.items():
        assignment = NOTEBOOKS[held[0].assignment]
        name = f"{assignment}.ipynb"
        source = nbformat.read(course / "source" / assignment / name, as_version=4)
        release = nbformat.read(course / "release" / assignment / name, as_version=4)
        solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                     if c.metadata.get("nbgrader", {}).get("solution")}
        answers = {CELLS[w.exercise][0]: _answer_cell(w, solutions[CELLS[w.exercise][0]])
                   for w in held}
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(with_answers(release, source, answers), folder / name)
    _rnn_grade("--course", str(course), "autograde", str(course / "submitted"), "--jobs", "2",
               "--sandbox", "bwrap", "--no-progress", "--feedback")
    statuses = {(r["student"], r["assignment"]): (r["status"], r["reasons"])
                for r in json.loads((course / "autograder-results.json").read_text())}
    assert len(statuses) == len(BATCH), statuses
    assert all(status == "graded" for status, _ in statuses.values()), statuses
    results, pages = {}, {}
    for student, held in BATCH.items():
        assignment = NOTEBOOKS[held[0].assignment]
        notebook = nbformat.read(
            course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)
        outputs = {c.metadata["nbgrader"]["grade_id"]: c.get("outputs", []) for c in notebook.cells
                   if c.metadata.get("nbgrader", {}).get("grade_id")}
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
            submission = gradebook.find_submission_notebook(assignment, assignment, student)
            results[student] = {
                g.name: (g.auto_score, g.max_score,
                         next((o.evalue for o in outputs[g.name] if o.output_type == "error"), ""))
                for g in submission.grades
                if g.cell.cell_type == "code" and g.auto_score is not None}
        page = course / "feedback" / student / assignment / f"{assignment}.html"
        pages[student] = html.unescape(page.read_text())
    return {"results": results, "pages": pages}


pytestmark = [pytest.mark.slow,
              # nbgrader 0.9.6 trips SQLAlchemy 2's autoflush warning when it creates a submission.
              pytest.mark.filterwarnings(
                  "ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")]


def _words(written: Written) -> str:
    return f"{written.exercise}: {EXERCISES[written.exercise][1].mistake(written.key).message}."


def _named(written: Written, message: str) -> bool:
    words = _words(written)
    return message == words or message.startswith(words + " That is not the only")


def _lost(graded, student) -> set[str]:
    grades = graded["results"][student]
    return {g for g, (score, max_score, _) in grades.items() if score < max_score}


def _allowed_to_lose(held: list[Written]) -> tuple[set[str], set[str]]:
    """(the cells the submission's mistakes must fail, the cells they may fail)."""
    must, may = set(), set()
    for w in held:
        if w.key:
            _, catalogue_cell, others = CELLS[w.exercise]
            must.add(catalogue_cell)
            (must if w.assignment in ALL_CELLS_FAIL else may).update(others)
    return must, may | must


def _blames_no_right_exercise(graded, written: Written) -> bool:
    must, may = _allowed_to_lose(BATCH[WHERE[written.exercise, written.key, written.source]])
    return must <= _lost(graded, WHERE[written.exercise, written.key, written.source]) <= may


def _ids(entries):
    return [f"{w.exercise}-{w.key}" for w in entries]


@pytest.mark.parametrize("written", MISTAKES, ids=_ids(MISTAKES))
def test_the_first_failing_message_names_the_mistake_and_only_its_cells_lose_points(
        graded, written):
    student = WHERE[written.exercise, written.key, written.source]
    grades = graded["results"][student]
    must, may = _allowed_to_lose(BATCH[student])
    lost = _lost(graded, student)
    messages = {g: grades[g][2] for g in lost}
    assert must <= lost <= may, (student, sorted(must - lost), sorted(lost - may), messages)
    first = grades[CELLS[written.exercise][1]][2]  # its hidden test runs the catalogue first
    assert _named(written, first), first
    assert _words(written) in graded["pages"][student]


def test_every_coded_exercise_of_rnn3_and_rnn4_has_five_graded_mistakes():
    counts = {name: sum(w.exercise == name for w in MISTAKES)
              for name, (assignment, _) in EXERCISES.items() if assignment in ("rnn3", "rnn4")}
    assert all(n >= 5 for n in counts.values()), counts


def test_nine_in_ten_graded_mistakes_are_named_and_blame_no_right_exercise(graded):
    counts = {}
    for written in MISTAKES:
        first = graded["results"][WHERE[written.exercise, written.key, written.source]][
            CELLS[written.exercise][1]][2]
        good = _named(written, first) and _blames_no_right_exercise(graded, written)
        named, total = counts.get(written.assignment, (0, 0))
        counts[written.assignment] = (named + good, total + 1)
    named, total = (sum(c[i] for c in counts.values()) for i in (0, 1))
    print(f"graded end to end: {named} of {total} written mistakes named in the first failing "
          f"message with no right exercise blamed ({named / total:.0%}); by assignment: "
          + ", ".join(f"{a} {n}/{t}" for a, (n, t) in sorted(counts.items())))
    assert named >= 0.9 * total, counts


@pytest.mark.parametrize("written", RIGHTS, ids=[f"{w.exercise}-right" for w in RIGHTS])
def test_a_right_answer_in_an_unusual_form_gets_full_marks(graded, written):
    student = WHERE[written.exercise, written.key, written.source]
    grades = graded["results"][student]
    _, catalogue_cell, others = CELLS[written.exercise]
    for cell in (catalogue_cell, *others):
        score, max_score, message = grades[cell]
        if cell in _allowed_to_lose(BATCH[student])[1]:
            continue  # a shared cell that a mistake next to it may fail
        assert score == max_score, (cell, message)


def test_the_batch_packs_unrelated_exercises_into_few_submissions():
    counts = {a: sum(s.startswith(a + "-") for s in BATCH) for a in NOTEBOOKS}
    print("submissions per assignment:", counts)
    for held in BATCH.values():
        exercises = [w.exercise for w in held]
        assert len(set(exercises)) == len(exercises), exercises
        mistaken = {w.exercise for w in held if w.key}
        assert not any(mistaken & APART.get(e, set()) for e in mistaken), mistaken
    # no more submissions than the longest chain of exercises that must stay apart needs
    assert counts == {"rnn1": 4, "rnn2": 4, "rnn3": 10, "rnn4": 10}, counts
