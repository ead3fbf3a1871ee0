"""Shared pytest set-up: quiet TensorFlow, one thread pool per worker, and the CI rule for skips.

The CI rule: where the environment variable ``CI`` holds a true value (``.ci/run`` sets it; CI
providers do too), every test must run. A skip, an xfail (or an unexpected pass of one), a module
skipped at collection or a deselected test fails the run, and the end of the output lists each
with its reason. Locally the same tests skip, saying what to install. Under pytest-xdist the
workers' reports reach the controller, which decides; deselection happens on the workers, so they
send what they deselected back in ``workeroutput``.
"""

import os

import pytest

from rnn_course_student.environment import quiet_tensorflow

quiet_tensorflow()  # before any test module imports TensorFlow
# Two pytest workers on two cores: one intra-op thread each keeps them from fighting.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

NOT_TRUE = ("", "0", "false", "no", "off")


def in_ci() -> bool:
    """Whether this run is CI's, where nothing may be skipped."""
    return os.environ.get("CI", "").strip().lower() not in NOT_TRUE


# --- what did not run: (test id, what happened, why), gathered where reports arrive ---
NOT_RUN: dict[str, tuple[str, str]] = {}


def _reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, (tuple, list)) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "").strip().splitlines()[-1:][0] if longrepr else ""


def pytest_runtest_logreport(report):
    if hasattr(report, "wasxfail"):
        what = "xfailed" if report.skipped else "xpassed" if report.passed else None
        if what:
            NOT_RUN[report.nodeid] = (what, report.wasxfail or "marked xfail")
    elif report.skipped:
        NOT_RUN[report.nodeid] = ("skipped", _reason(report))


def pytest_collectreport(report):
    if report.skipped:
        NOT_RUN[report.nodeid] = ("skipped at collection", _reason(report))


def pytest_deselected(items):
    for item in items:
        NOT_RUN[item.nodeid] = ("deselected", "not selected by the command line or a plugin")


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):  # an xdist worker: its controller decides
        config.workeroutput["rnn_deselected"] = {
            nodeid: list(entry) for nodeid, entry in NOT_RUN.items() if entry[0] == "deselected"}
        return
    if in_ci() and NOT_RUN and exitstatus in (pytest.ExitCode.OK,
                                              pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_testnodedown(node, error):
    """An xdist worker finished: what it deselected (its own reports came one by one)."""
    for nodeid, entry in getattr(node, "workeroutput", {}).get("rnn_deselected", {}).items():
        NOT_RUN[nodeid] = tuple(entry)


def pytest_terminal_summary(terminalreporter, config):
    if hasattr(config, "workerinput"):
        return
    _not_run_summary(terminalreporter)
    _mechanisms(terminalreporter)
    _notebook_times(terminalreporter)


def _not_run_summary(terminalreporter):
    if not NOT_RUN:
        return
    ci = in_ci()
    title = ("CI=true: tests that did not run (each fails this run)" if ci else
             "tests that did not run here (in CI, with CI=true, each would fail the run)")
    terminalreporter.section(title, red=ci, yellow=not ci, bold=ci)
    deselected = 0
    for nodeid, (what, why) in sorted(NOT_RUN.items()):
        if what == "deselected" and not ci:  # locally, -k and -m are what one asked for
            deselected += 1
            continue
        terminalreporter.write_line(f"{what.upper()} {nodeid}: {why}")
    if deselected:
        terminalreporter.write_line(f"DESELECTED {deselected} tests (listed one by one in CI)")


def _mechanisms(terminalreporter):
    """The protection each sandbox test found in force here (a ``mechanism`` property): which
    bound a fork bomb or a memory balloon met depends on the machine (cgroups, root)."""
    rows = sorted({value for report in terminalreporter.stats.get("passed", [])
                   + terminalreporter.stats.get("failed", [])
                   + terminalreporter.stats.get("skipped", [])
                   if getattr(report, "when", "") == "call" or report.skipped
                   for name, value in getattr(report, "user_properties", [])
                   if name == "mechanism"})
    if rows:
        terminalreporter.section("protections in force, as the sandbox tests found them")
        for row in rows:
            terminalreporter.write_line(row)


def _notebook_times(terminalreporter):
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
