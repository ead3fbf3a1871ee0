"""The course's checks, instructor side: what the hidden tests of `course/source` use to grade.

`course_checks.testing` holds the grading helpers (the forbidden-call guard, the float-type
checks); `course_checks.mistakes` the catalogue of students' typical mistakes, whose right
functions are the answers. Neither ships in the student kit, and the library `rnn_tf` imports
neither.
"""
