"""Grade a class: make a task per submission (here), run them (workers), record them (here).

    submissions (folder or zip)    -> submissions.find: student, assignment, file
    -> make_task                      the file's bytes, the release, the gradebook's cells, limits
    -> pipeline.grade_notebook        in workers, through engines.dispatch (pure, no gradebook)
    -> record                         nbgrader's RECORD_PREPROCESSORS, gradebook written here
    -> Result                         score, status, reasons, timings

Only this process writes the gradebook, one notebook at a time, so parallel workers can never
corrupt it; SaveAutoGrades touches auto scores only, so manual grades survive regrading.
"""

import dataclasses
import datetime
import hashlib
import os
import time
import warnings

import nbformat
from nbgrader.api import Gradebook
from nbgrader.utils import is_grade
from tqdm import tqdm

from .. import engines
from ..course.folder import Course
from ..engines.dispatch import dispatch
from ..judge.secret import course_secret
from ..results import DIGEST_KEY, FAILED, FLAGGED, GRADED, VERDICT_KEY, Result
from ..sandbox import isolation
from . import rebuild_rules
from .limits import Limits
from .pipeline import RECORD_PREPROCESSORS, grade_notebook, release_files, run_steps
from .resume import graded_before
from .submissions import Submission, find
from .task import Findings, Graded, GradingTask, SourceCell


class GradingStopped(RuntimeError):
    """The engine went away mid-batch; ``results`` are the notebooks graded (and recorded)."""

    def __init__(self, message: str, results: list["Result"]):
        super().__init__(message)
        self.results = results


def source_cells(course: Course, assignment: str) -> dict[str, SourceCell]:
    """The gradebook's locked and graded cells of an assignment (the hidden tests included)."""
    with Gradebook(course.db_url) as gb:
        nb = gb.find_notebook(assignment, assignment)
        points = {c.name: float(c.max_score) for c in nb.grade_cells}
        return {c.name: SourceCell(c.name, c.cell_type, c.source, bool(c.locked), c.checksum,
                                   points.get(c.name)) for c in nb.source_cells}


def _resources(course: Course, student: str, assignment: str) -> dict:
    return {"nbgrader": {"db_url": course.db_url, "assignment": assignment,
                         "notebook": assignment, "student": student}}


def _max_points(release) -> float:
    return float(sum(c.metadata.nbgrader.get("points", 0) for c in release.cells
                     if is_grade(c)))


def classify(sub: Submission, releases: dict) -> Result | None:
    """A failed Result for a file that cannot be graded as its assignment, else None."""
    result = Result(sub.student, sub.assignment or "?", FAILED, reasons=list(sub.notes))
    if sub.assignment is None:
        result.reasons.append("cannot tell which assignment this notebook is for")
        return result
    if sub.path is None:  # left out of the download (too large, ...): the notes say why
        result.max_score = _max_points(releases[sub.assignment])
        return result
    try:
        cells = rebuild_rules.read_cells(sub.path)
    except rebuild_rules.Unreadable as e:
        result.reasons.append(str(e))
    else:
        own = (set(rebuild_rules.grade_ids(cells))
               & set(rebuild_rules.grade_ids(releases[sub.assignment])))
        other = rebuild_rules.which_assignment(cells, releases)
        if own or other in (None, sub.assignment):
            return None
        result.reasons.append(f"this is the notebook of {other}, not {sub.assignment}")
    result.max_score = _max_points(releases[sub.assignment])  # what was at stake
    return result


def late_timestamp(gb: Gradebook, task: GradingTask, reasons: list[str]) -> dict:
    """The submission time to record for a file the LMS marked late, as update_or_create_submission
    keywords.

    A Canvas download says LATE but not when; nbgrader's late penalty works from the time. With a
    due date in the gradebook, the file is recorded one second after it: the least lateness the
    mark allows, so the course's LateSubmissionPlugin applies its first step (penalty_method
    "zero": no points). Without a due date nothing can be applied, and the reasons say so.
    """
    if not task.late:
        return {}
    duedate = gb.find_assignment(task.assignment).duedate
    if duedate is None:
        reasons.append("no late penalty: the assignment has no due date in the gradebook")
        return {}
    return {"timestamp": duedate + datetime.timedelta(seconds=1)}


def record(course: Course, task: GradingTask, graded: Graded) -> Result:
    """Parent process: nbgrader's recording steps on the executed notebook, then the Result."""
    # nbgrader's gradebook code trips SQLAlchemy autoflush warnings that mean nothing here
    # (silenced while recording only: the filters of the process that grades stay its own).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="nbgrader")
        warnings.filterwarnings("ignore", message=".*not in session.*")
        return _record(course, task, graded)


def _record(course: Course, task: GradingTask, graded: Graded) -> Result:
    findings, run = graded.findings, graded.findings.execution
    notes = task.notes
    result = Result(task.student, task.assignment, GRADED, reasons=list(notes))
    result.timings = {"kernel_start_s": round(run.kernel_start_s, 2),
                      "setup_s": round(run.setup_s, 2), "student_s": round(run.student_s, 2),
                      "judge_s": round(run.judge_s, 2)}
    result.reasons.extend(findings.repairs)
    if findings.stopped or graded.notebook is None:
        result.status = FAILED
        result.reasons.append(findings.stopped or "grader error: no notebook came back")
        result.max_score = _max_points(nbformat.reads(task.release, as_version=4))
        return result
    for whys in findings.cheated.values():
        result.reasons.extend(f"no points for {why}" for why in whys)
    for f in findings.scan:
        if f.kind == "suspicious" or f.cell not in findings.answer_sources:
            result.reasons.append(f"suspicious code in {f.cell}: {f.detail}")
    for report in run.sandbox:
        result.reasons.append(f"sandbox refused {report.get('kind')} in {report.get('cell')} "
                              f"({report.get('path')})")
    if findings.html_removed:
        where = "; ".join(f"{cell}: {', '.join(what)}"
                          for cell, what in findings.html_removed.items())
        result.reasons.append(f"active HTML removed (it could run in a browser; no points "
                              f"taken) from {where}")
    if run.timed_out:
        result.reasons.append(f"time limit hit in {', '.join(run.timed_out)}")
    if run.output_cut:
        result.reasons.append(f"output cut in {', '.join(run.output_cut)} (over the cap)")
    if run.died:
        result.reasons.append(run.died + "; later cells not run")

    with Gradebook(course.db_url) as gb:
        gb.update_or_create_student(task.student)
        gb.update_or_create_submission(task.assignment, task.student,
                                       **late_timestamp(gb, task, result.reasons))
    resources = {**_resources(course, task.student, task.assignment), "findings": findings}
    nb = nbformat.reads(graded.notebook, as_version=4)
    nb, resources = run_steps(RECORD_PREPROCESSORS, nb, resources, course.config)

    with Gradebook(course.db_url) as gb:
        sub = gb.find_submission_notebook(task.assignment, task.assignment, task.student)
        for grade in sorted(sub.grades, key=lambda g: g.name):
            result.cells[grade.name] = grade.score
        penalty = sub.late_submission_penalty or 0.0
        result.score, result.max_score = max(0.0, sub.score - penalty), sub.max_score
        if penalty:
            result.reasons.append(f"late penalty -{penalty:g} (nbgrader's late-submission "
                                  f"plugin; {sub.score:g} before it)")
        if sub.needs_manual_grade:
            # nbgrader marks written answers, and any grade with a manual score (for review).
            result.reasons.append("needs manual grading or review in nbgrader's formgrader")
    # Flagged: scored, but something an instructor should see (repairs, cheats, crashes).
    flagged = (findings.cheated or run.sandbox or run.died or findings.repairs or notes
               or findings.scan or findings.html_removed)
    result.status = FLAGGED if flagged else GRADED
    # The verdict travels with the notebook: the feedback template shows it.
    nb.metadata[VERDICT_KEY] = {"status": result.status, "reasons": result.reasons,
                                # which file was graded, for --resume (autograder/grading/resume.py)
                                DIGEST_KEY: hashlib.sha256(task.submission).hexdigest()}
    result.autograded = course.autograded_path(task.student, task.assignment)
    os.makedirs(os.path.dirname(result.autograded), exist_ok=True)
    nbformat.write(nb, result.autograded)
    return result


def autograde(course: Course, submissions: str | list[Submission], jobs: int | None = None,
              limits: Limits | None = None, progress: bool = True,
              forbidden: dict[str, dict[str, list[str]]] | None = None,
              engine: engines.Engine | None = None,
              sandbox: isolation.Isolation | str = "auto", budgets: dict[str, float] | None = None,
              resume: bool = False) -> list[Result]:
    """Grades every submission found under ``submissions`` (folder or zip), or those given.

    Args:
        jobs: worker processes of the local pool used when no ``engine`` is given (default:
            the number of cores).
        forbidden: the forbidden-call table, assignment -> definition -> dotted names
            (default: the course's, ``course.policy.forbidden``).
        engine: where ``grade_notebook`` runs (autograder/engines: the local pool or Dask,
            e.g. ``engines.from_arguments(args)``); the caller closes it. Default: a local pool
            of ``jobs`` workers.
        resume: keep what an earlier run recorded for the same files; grade only the rest.
        sandbox: the kernels' OS isolation chosen for the run (autograder/sandbox/isolation.py
            ``choose``), or its mode, ``auto``, ``bwrap`` or ``none``, to choose it here;
            ``bwrap`` raises where bubblewrap cannot run.
        budgets: assignment -> seconds for its notebooks' student code, replacing
            ``limits.notebook_timeout`` (autograder/course/budget.py derives them).
    """
    limits = limits or Limits()
    # Decided once per run: every worker then runs the same isolation (or fails to, and says so).
    if isinstance(sandbox, str):
        sandbox = isolation.choose(sandbox, warn=False)
    engine = engine or engines.start(None, jobs)  # a local pool: nothing to close
    forbidden = course.policy.forbidden if forbidden is None else forbidden
    # N kernels side by side on N cores get a thread pool each (unknown for a remote cluster).
    threads = max(1, (os.cpu_count() or 1) // (engine.jobs or os.cpu_count() or 1))
    assignments = course.assignments
    course.ensure_released(assignments)
    secret = course_secret(course.root)  # the judge's cases are drawn from it, per student
    releases = {a: course.release_notebook(a) for a in assignments}
    subs = (find(submissions, assignments, releases) if isinstance(submissions, (str, os.PathLike))
            else list(submissions))  # already mapped from an LMS download (autograder/lms)
    results: list[Result] = []
    tasks = []
    per_assignment = {}
    for sub in subs:
        failed = classify(sub, releases)
        if failed is not None:
            results.append(failed)
            continue
        a = sub.assignment
        if a not in per_assignment:
            per_assignment[a] = (nbformat.writes(releases[a]), source_cells(course, a),
                                 release_files(course.release_dir(a)))
        release, cells, files = per_assignment[a]
        with open(sub.path, "rb") as f:
            data = f.read()
        # The course (hidden tests, gradebook), the class's submissions, and the executed
        # solutions beside the course (they carry the hidden tests too).
        deny = [course.root, os.path.dirname(os.path.abspath(sub.path)),
                os.path.join(os.path.dirname(course.root), "solutions")]
        task_limits = limits
        if budgets and a in budgets:
            task_limits = dataclasses.replace(limits, notebook_timeout=budgets[a])
        task = GradingTask(sub.student, a, data, release, cells, task_limits,
                           forbidden.get(a, {}), files, deny,
                           threads=threads, sandbox=sandbox,
                           notes=sub.notes, late=sub.late, secret=secret,
                           protected=course.policy.protected_attributes)
        tasks.append(task)
    if resume:
        before = {id(t): graded_before(course, t) for t in tasks}
        results.extend(r for r in before.values() if r is not None)
        tasks = [t for t in tasks if before[id(t)] is None]
    bar = tqdm(total=len(subs), desc="grading", unit="notebook", disable=not progress)
    bar.update(len(results))
    try:
        for task, outcome in dispatch(grade_notebook, tasks, engine):
            started = time.monotonic()
            if isinstance(outcome, BaseException):
                findings = Findings()
                findings.execution.error = str(outcome)
                outcome = Graded(None, findings)
            result = record(course, task, outcome)
            result.timings["record_s"] = round(time.monotonic() - started, 2)
            results.append(result)
            bar.update(1)
    except engines.EngineLost as e:
        results.sort(key=lambda r: (r.student, r.assignment))
        raise GradingStopped(f"{e}; the results of {len(results)} of {len(subs)} notebooks "
                             f"are kept", results) from None
    finally:
        bar.close()
    return sorted(results, key=lambda r: (r.student, r.assignment))
