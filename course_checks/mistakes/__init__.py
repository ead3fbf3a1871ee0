"""The mistakes students make in each assignment, and the diagnosis that names them.

Instructor-only material for the hidden tests: each module (`rnn1` ... `rnn4`) holds one
assignment's `Exercise`s, each with the right function and a catalogue of `Mistake`s written as
small mutants of it. `check(exercise, student_function)` raises an AssertionError whose message
names the student's mistake in words (or, when no catalogued mistake fits, says what differs and
where to look), judging a later exercise with right versions of the earlier ones it calls.
It must never ship in the student kit: the right functions are the answers.
"""

from course_checks.mistakes.diagnosis import Case, Exercise, Mistake, check, diagnose
from rnn_course_student.checks import check_blaming_earlier, substituted

__all__ = ["Case", "Exercise", "Mistake", "check", "check_blaming_earlier", "diagnose",
           "substituted"]
