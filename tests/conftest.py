"""Shared pytest set-up: quiet TensorFlow and deterministic Keras seeds for every test."""

import os

from rnn_course_student.environment import quiet_tensorflow

quiet_tensorflow()  # before any test module imports TensorFlow
# Two pytest workers on two cores: one intra-op thread each keeps them from fighting.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


def pytest_terminal_summary(terminalreporter):
    """Print the run time of each course notebook (tests record it as a `*_seconds` property).

    Reported in every run so a slow notebook (the budget is 30 s on 2 cores) shows up in CI logs.
    """
    stats = terminalreporter.stats
    rows = [
        (name, value, report.nodeid)
        for report in stats.get("passed", []) + stats.get("failed", [])
        if report.when == "call"
        for name, value in report.user_properties
        if "seconds" in name
    ]
    if rows:
        terminalreporter.section("course notebook run times")
        for name, value, nodeid in sorted(rows):
            terminalreporter.write_line(f"{name:<40} {value:>7} s   {nodeid.split('::')[-1]}")
