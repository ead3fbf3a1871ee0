"""Submissions in from Canvas and Moodle downloads, grades back out to their gradebooks.

    download.read(path) -> root, entries        THE reader of a zip or folder, with size limits
    mapping.discover(path, assignments, releases, lms=None, roster=None) -> Mapping
    canvas.read_roster(csv), moodle.read_roster(csv) -> Roster
    intake.py                                   rnn-grade autograde's LMS flags and report

The exports to Canvas and Moodle are in autograder/exports/. The formats, the student-id
decision and the limits are in autograder/docs/lms.md.
"""
