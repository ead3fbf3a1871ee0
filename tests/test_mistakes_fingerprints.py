"""The kit names catalogued mistakes while the student works (rnn_course_student/fingerprints.py):
the same mistake as the grader names, for the catalogue's mutants and for mistakes written as
students write them; never for a right answer; robust to the last bits of arithmetic; and the
kit's table holds only one-way fingerprints and words: no mutant, right function or output."""

import ast
import re

import numpy as np
import pytest

from course_checks.mistakes import check, kit_fingerprints
from rnn_course_student import fingerprints as kit
from tests.test_mistakes_written import EXERCISES, RIGHT_UNUSUAL, WRITTEN, _notebook, _outcome

FINGERPRINTED = [e for e in kit_fingerprints.EXERCISES]
STORED = [(e, m) for e in FINGERPRINTED for m in e.mistakes
          if f"{e.name}: {m.message}." in kit.TABLE[e.name]["mistakes"].values()]


def _grader_says(exercise, function):
    try:
        check(exercise, function, namespace={})
    except AssertionError as failure:
        return str(failure)
    return None


def test_the_kit_table_is_up_to_date_and_covers_most_of_the_catalogue():
    assert kit_fingerprints.main(["--check"]) == 0
    for exercise in FINGERPRINTED:
        stored = kit.TABLE[exercise.name]["mistakes"]
        assert len(stored) >= len(exercise.mistakes) - 3, (exercise.name, len(stored))


@pytest.mark.parametrize("exercise, mistake", STORED, ids=[f"{e.name}-{m.key}" for e, m in STORED])
def test_the_kit_names_a_catalogued_mistake_as_the_grader_does(exercise, mistake):
    named = kit.name_mistake(exercise.name, mistake.mutant)
    assert named == f"{exercise.name}: {mistake.message}."
    assert named == _grader_says(exercise, mistake.mutant)
    # Arithmetic that differs in the last bits (another order of sums, float32 on the way) names
    # it alike: no stored value lies near a rounding boundary.
    def nudged(*args):
        result = mistake.mutant(*args)
        if isinstance(result, tuple):
            return tuple(r * (1 + 1e-11) if isinstance(r, np.ndarray) else r for r in result)
        return result * (1 + 1e-11)

    assert kit.name_mistake(exercise.name, nudged) == named

    def in_float32(*args):  # the whole computation in float32, as a student's code may do it
        def narrow(a):
            return ([narrow(x) for x in a] if isinstance(a, list)
                    else a.astype(np.float32) if isinstance(a, np.ndarray) else a)
        return mistake.mutant(*[narrow(a) for a in args])

    assert kit.name_mistake(exercise.name, in_float32) == named


def test_the_kit_names_no_right_answer():
    for exercise in FINGERPRINTED:
        assert kit.name_mistake(exercise.name, exercise.reference) is None, exercise.name
    for written in RIGHT_UNUSUAL:
        if written.exercise in kit.TABLE:
            assert kit.name_mistake(written.exercise, _notebook(written)[written.exercise]) is None


def test_the_kit_names_written_mistakes_as_the_grader_does():
    """Mistakes written as students write them: whatever the kit names is what the grader says."""
    named = 0
    relevant = [w for w in WRITTEN if w.exercise in kit.TABLE]
    for written in relevant:
        says = kit.name_mistake(written.exercise, _notebook(written)[written.exercise])
        if says is not None:
            named += 1
            assert says == _outcome(written)[0], written
    print(f"the kit names {named} of {len(relevant)} written mistakes of its exercises")
    assert named >= 0.8 * len(relevant)


def test_the_kit_holds_fingerprints_and_words_only():
    """Nothing in the kit's table lets a student compute an answer: keys are SHA-256 digests,
    values are sentences, the rest is the grid; the right function's own fingerprint is absent
    (so it cannot even confirm a right answer), and the module imports nothing of the grader."""
    for name, spec in kit.TABLE.items():
        assert set(spec) == {"decimals", "offset", "salt", "mistakes"}
        assert isinstance(spec["decimals"], int) and isinstance(spec["offset"], float)
        for digest in spec["mistakes"]:
            assert re.fullmatch(r"[0-9a-f]{64}", digest)
        exercise = EXERCISES[name][1]
        catalogued = {f"{name}: {m.message}." for m in exercise.mistakes}
        assert set(spec["mistakes"].values()) <= catalogued  # the catalogue's words, no values
        right = kit_fingerprints._outputs(exercise, exercise.reference)
        assert kit.fingerprint(name, right, spec) not in spec["mistakes"]
    tree = ast.parse(open(kit.__file__).read())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "hashlib", "typing", "numpy"}, imported


def test_a_fingerprint_is_one_way_and_changes_with_any_value():
    spec = kit.TABLE["rnn_step_forward"]
    values = [np.linspace(-1, 1, 8).reshape(2, 4)]
    changed = [values[0].copy()]
    changed[0][1, 3] += 10.0 ** -kit.DECIMALS
    mine = kit.fingerprint("rnn_step_forward", values, spec)
    assert mine != kit.fingerprint("rnn_step_forward", changed, spec)
    # another exercise, or another salt, gives another fingerprint for the same values
    assert mine != kit.fingerprint("tanh_slope", values, spec)
    assert mine != kit.fingerprint("rnn_step_forward", values, {**spec, "salt": spec["salt"] + "x"})


def test_the_build_leaves_out_colliding_mistakes_and_avoids_rounding_edges(monkeypatch):
    """Negative controls: a mutant equal to another is not stored (the kit could name the wrong
    one), and the grid's offset moves away from a value on a rounding boundary."""
    from course_checks.mistakes import Mistake, rnn2

    twin = Mistake("twin", "a twin of the first mistake", rnn2.TANH_SLOPE.mistakes[0].mutant)
    doubled = rnn2.TANH_SLOPE.__class__(**{**rnn2.TANH_SLOPE.__dict__,
                                            "mistakes": rnn2.TANH_SLOPE.mistakes + (twin,)})
    monkeypatch.setattr(kit_fingerprints, "EXERCISES", (doubled,))
    stored = kit_fingerprints.build("salt")["tanh_slope"]["mistakes"].values()
    assert f"tanh_slope: {twin.message}." not in stored
    assert f"tanh_slope: {rnn2.TANH_SLOPE.mistakes[0].message}." not in stored
    assert f"tanh_slope: {rnn2.TANH_SLOPE.mistakes[1].message}." in stored
    on_edge = [np.array([0.0125])]  # exactly half a grid step at 3 decimals
    assert kit_fingerprints._near_edge(on_edge, 3, 0.0)
    assert not kit_fingerprints._near_edge(on_edge, 3, 1 / 97)


def _on_every_edge(*args):
    """Values that sit on a rounding edge of the grid whichever offset the build tries."""
    return np.array([(k + 0.5 - o) / 10.0 ** kit.DECIMALS for k, o in
                     enumerate(kit_fingerprints.OFFSETS)])


def test_the_build_leaves_out_a_mutant_on_the_edges_and_refuses_a_right_function_there(
        monkeypatch):
    """A mutant with a value near a rounding edge at the chosen offset is not stored (a student's
    last bits could round it either way); a right function with such values at every offset
    stops the build with a clear error (a right answer could then round into a mistake's
    fingerprint). The offset chosen keeps the most mutants."""
    from course_checks.mistakes import Mistake, rnn2

    slope = rnn2.TANH_SLOPE
    edgy = Mistake("edgy", "a mutant on the edges", _on_every_edge)
    with_edgy = slope.__class__(**{**slope.__dict__, "mistakes": slope.mistakes + (edgy,)})
    monkeypatch.setattr(kit_fingerprints, "EXERCISES", (with_edgy,))
    stored = kit_fingerprints.build("salt")["tanh_slope"]["mistakes"].values()
    assert f"tanh_slope: {edgy.message}." not in stored
    assert len(stored) == len(kit.TABLE["tanh_slope"]["mistakes"])
    edgy_right = slope.__class__(**{**slope.__dict__, "reference": _on_every_edge})
    monkeypatch.setattr(kit_fingerprints, "EXERCISES", (edgy_right,))
    with pytest.raises(ValueError, match="tanh_slope: every grid offset puts a value of the right"):
        kit_fingerprints.build("salt")
    right = [np.array([0.0003])]
    on_zero = {"m": [np.array([0.0125])]}  # on an edge at offset 0, clear of it at 0.5
    monkeypatch.setattr(kit_fingerprints, "OFFSETS", [0.0, 0.5])
    assert kit_fingerprints._offset(right, on_zero, 3, "x") == 0.5
