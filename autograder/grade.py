"""The grading pipeline: prepare (here), execute (worker processes), record (here, serially).

    submission file
      -> read and rebuild on the release skeleton     normalise.py   (unreadable: failed-to-grade)
      -> nbgrader OverwriteCells (hidden tests back)   gradebook read only
      -> static scan of answer cells                   cheats.py
      -> nbgrader Execute, limited and sandboxed        execute.py     (in a worker process)
      -> zero the exercises caught cheating            (an error output nbgrader scores as 0)
      -> nbgrader LimitOutput, SaveAutoGrades, ...     gradebook written by this process only
      -> Result: score, status, reasons, timings

Only the parent process writes the gradebook, one notebook at a time, so parallel workers can
never corrupt it; SaveAutoGrades touches auto scores only, so manual grades survive regrading.
"""

import logging
import os
import shutil
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import Gradebook
from nbgrader.preprocessors import (
    AssignLatePenalties,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    SaveAutoGrades,
)
from nbgrader.utils import is_solution
from tqdm import tqdm

from . import cheats, normalise
from .course import Course
from .execute import Execution, LimitedExecute, Limits, grade_id, is_setup
from .submissions import Submission, find

GRADED, FLAGGED, FAILED = "graded", "flagged", "failed-to-grade"
FLAG_NAME = "FlaggedByGrader"


@dataclass
class Result:
    student: str
    assignment: str
    status: str
    reasons: list[str] = field(default_factory=list)
    score: float | None = None
    max_score: float | None = None
    cells: dict[str, float | None] = field(default_factory=dict)  # grade id -> score
    timings: dict[str, float] = field(default_factory=dict)
    autograded: str | None = None  # path of the executed notebook

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass
class Job:
    """Everything a worker needs, as plain data."""

    student: str
    assignment: str
    notebook: str  # the prepared notebook, JSON
    release_dir: str
    deny: list[str]
    limits: Limits
    threads: int = 0  # math-library threads for the kernel (0: the libraries' default)


def _quiet(pp):
    pp.log = logging.getLogger("rnn-grade.nbgrader")
    pp.log.setLevel(logging.CRITICAL)  # nbgrader's checksum warnings (issue 1961): see notes
    return pp


def _resources(course: Course, student: str, assignment: str) -> dict:
    return {"nbgrader": {"db_url": course.db_url, "assignment": assignment,
                         "notebook": assignment, "student": student}}


def prepare(course: Course, sub: Submission, releases: dict) -> tuple[Job | None, Result, dict]:
    """Reads and repairs one submission; a Job to run, or None with a failed Result."""
    result = Result(sub.student, sub.assignment or "?", GRADED, reasons=list(sub.notes))
    if sub.assignment is None:
        result.status = FAILED
        result.reasons.append("cannot tell which assignment this notebook is for")
        return None, result, {}
    try:
        cells = normalise.read_cells(sub.path)
    except normalise.Unreadable as e:
        result.status = FAILED
        result.reasons.append(str(e))
        return None, result, {}
    release = releases[sub.assignment]
    own = set(normalise.grade_ids(cells)) & set(normalise.grade_ids(release))
    other = normalise.which_assignment(cells, releases)
    if not own and other not in (None, sub.assignment):
        result.status = FAILED
        result.reasons.append(f"this is the notebook of {other}, not {sub.assignment}")
        return None, result, {}
    prepared = normalise.rebuild(cells, release)
    result.reasons.extend(prepared.notes)
    nb, _ = _quiet(OverwriteCells()).preprocess(
        prepared.nb, _resources(course, sub.student, sub.assignment))

    # Static scan of everything the student wrote (answer cells and added cells).
    setup_src = [c.source for c in nb.cells if is_setup(c)]
    student_cells = [(grade_id(c) or f"added cell {i}", c.source) for i, c in enumerate(nb.cells)
                     if c.cell_type == "code" and (is_solution(c) or not grade_id(c))]
    aliases = cheats.collect_aliases(setup_src + [s for _, s in student_cells])
    setup_names = set(cheats.collect_aliases(setup_src))
    findings = [f for name, src in student_cells
                for f in cheats.scan_cell(src, name, sub.assignment, aliases, setup_names)]
    # The course (hidden tests, gradebook), the class's submissions, and the executed
    # solutions beside the course (they carry the hidden tests too).
    deny = [course.root, os.path.dirname(os.path.abspath(sub.path)),
            os.path.join(os.path.dirname(course.root), "solutions")]
    job = Job(sub.student, sub.assignment, nbformat.writes(nb), course.release_dir(sub.assignment),
              deny, Limits())
    return job, result, {"prepared": prepared, "findings": findings, "file_notes": sub.notes}


def run_job(job: Job) -> tuple[str, dict]:
    """Worker process: executes one prepared notebook in a fresh sandbox."""
    work = tempfile.mkdtemp(prefix=f"rnn-grade-{job.student}-{job.assignment}-")
    sandbox = os.path.join(work, "sandbox")
    try:
        shutil.copytree(job.release_dir, sandbox,
                        ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
        executor = LimitedExecute(
            timeout=int(job.limits.cell_timeout), setup_timeout=job.limits.setup_timeout,
            notebook_timeout=job.limits.notebook_timeout, memory_mb=job.limits.memory_mb,
            sandbox_dir=sandbox, deny=os.pathsep.join(job.deny),
            report_path=os.path.join(work, "sandbox-report.jsonl"), threads=job.threads)
        _quiet(executor)
        nb = nbformat.reads(job.notebook, as_version=4)
        nb, _ = executor.preprocess(nb, {"metadata": {"path": sandbox}})
        return nbformat.writes(nb), asdict(executor.run)
    except Exception as e:  # the grader failed, not the student: say so
        return job.notebook, asdict(Execution(error=f"{type(e).__name__}: {e}"))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cheat_exercises(nb, run: Execution, extra: dict) -> dict[str, list[str]]:
    """Exercise (answer grade id) -> why it earns nothing (static, run-time and sandbox)."""
    prepared: normalise.Prepared = extra["prepared"]
    exercise_of = prepared.exercise_of
    answers = set(prepared.answer_sources)
    out: dict[str, list[str]] = {}

    def add(exercise, why):
        if why not in out.setdefault(exercise, []):
            out[exercise].append(why)

    for f in extra["findings"]:
        if f.kind in ("monkeypatch", "forbidden") and f.cell in answers:
            add(f.cell, f"{f.cell}: {f.detail}")
    for test, names in run.patched.items():
        exercise = exercise_of.get(test, test)
        add(exercise, f"{exercise}: replaced {', '.join(names)} before {test} ran")
    for report in run.sandbox:
        cell = report.get("cell")
        exercise = cell if cell in answers else exercise_of.get(cell)
        if exercise:
            add(exercise, f"{exercise}: {report.get('kind')} ({report.get('path')})")
    for cell in nb.cells:  # the course's own forbidden-call checks (rnn_tf.testing)
        gid = grade_id(cell)
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error" and "forbidden" in o.get("ename", "").lower():
                exercise = exercise_of.get(gid, gid)
                add(exercise, f"{exercise}: {o.get('evalue', '')[:200]}")
    return out


def record(course: Course, job: Job, result: Result, extra: dict, nb_json: str,
           run_dict: dict) -> Result:
    """Parent process: zero cheats, save grades with nbgrader, build the Result."""
    # nbgrader's gradebook code trips SQLAlchemy autoflush warnings that mean nothing here.
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    run = Execution(**run_dict)
    nb = nbformat.reads(nb_json, as_version=4)
    result.timings = {"kernel_start_s": round(run.kernel_start_s, 2),
                      "setup_s": round(run.setup_s, 2), "student_s": round(run.student_s, 2)}
    if run.error or run.setup_failed:
        result.status = FAILED
        result.reasons.append(run.error and f"grader error: {run.error}" or run.setup_failed)
        return result
    cheated = _cheat_exercises(nb, run, extra)
    prepared: normalise.Prepared = extra["prepared"]
    for cell in nb.cells:
        exercise = prepared.exercise_of.get(grade_id(cell) or "")
        if exercise in cheated:
            cell.outputs = [*cell.get("outputs", []), *(nbformat.NotebookNode(
                output_type="error", ename=FLAG_NAME, evalue=f"no points: {why}",
                traceback=[f"{FLAG_NAME}: no points: {why}"]) for why in cheated[exercise])]
    for whys in cheated.values():
        result.reasons.extend(f"no points for {why}" for why in whys)
    for f in extra["findings"]:
        if f.kind == "suspicious" or f.cell not in prepared.answer_sources:
            result.reasons.append(f"suspicious code in {f.cell}: {f.detail}")
    for report in run.sandbox:
        result.reasons.append(f"sandbox refused {report.get('kind')} in {report.get('cell')} "
                              f"({report.get('path')})")
    if run.timed_out:
        result.reasons.append(f"time limit hit in {', '.join(run.timed_out)}")
    if run.died:
        result.reasons.append(run.died + "; later cells not run")

    # nbgrader's own post-execution steps, as in `nbgrader autograde`.
    with Gradebook(course.db_url) as gb:
        gb.update_or_create_student(job.student)
        gb.update_or_create_submission(job.assignment, job.student)
    resources = _resources(course, job.student, job.assignment)
    for pp in (IgnorePattern(), ClearMetadataPreprocessor(preserve_cell_metadata_mask={"nbgrader"}),
               LimitOutput(), SaveAutoGrades(), AssignLatePenalties()):
        nb, resources = _quiet(pp).preprocess(nb, resources)
    out_dir = os.path.join(course.root, "autograded", job.student, job.assignment)
    os.makedirs(out_dir, exist_ok=True)
    result.autograded = os.path.join(out_dir, f"{job.assignment}.ipynb")
    nbformat.write(nb, result.autograded)

    with Gradebook(course.db_url) as gb:
        sub = gb.find_submission_notebook(job.assignment, job.assignment, job.student)
        for grade in sorted(sub.grades, key=lambda g: g.name):
            result.cells[grade.name] = grade.score if grade.score is not None else None
        result.score, result.max_score = sub.score, sub.max_score
        if sub.needs_manual_grade:
            # nbgrader marks written answers, and any grade with a manual score (for review).
            result.reasons.append("needs manual grading or review in nbgrader's formgrader")
    # Flagged: scored, but something an instructor should see (repairs, cheats, crashes).
    flagged = (cheated or run.sandbox or run.died or prepared.notes or extra["file_notes"]
               or extra["findings"])
    result.status = FLAGGED if flagged else GRADED
    return result


def _max_points(release) -> float:
    return float(sum(c.metadata.get("nbgrader", {}).get("points", 0) for c in release.cells
                     if c.metadata.get("nbgrader", {}).get("grade")))


def autograde(course: Course, submissions: str, jobs: int | None = None,
              limits: Limits | None = None, progress: bool = True) -> list[Result]:
    """Grades every submission found under ``submissions`` (folder or zip)."""
    limits = limits or Limits()
    jobs = jobs or os.cpu_count() or 1
    releases_needed = course.assignments
    course.ensure_released(releases_needed)
    releases = {a: course.release_notebook(a) for a in releases_needed}
    subs = find(submissions, releases_needed, releases)
    results: list[Result] = []
    pending = []
    for sub in subs:
        job, result, extra = prepare(course, sub, releases)
        if job is None:
            if sub.assignment in releases:  # no score, but the table still shows what was at stake
                result.max_score = _max_points(releases[sub.assignment])
            results.append(result)
        else:
            job.limits = limits
            job.threads = max(1, (os.cpu_count() or 1) // jobs)
            pending.append((job, result, extra))
    bar = tqdm(total=len(subs), desc="grading", unit="notebook", disable=not progress)
    bar.update(len(results))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_job, job): (job, result, extra)
                   for job, result, extra in pending}
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            job, result, extra = futures[future]
            started = time.monotonic()
            try:
                nb_json, run = future.result()
            except Exception as e:  # a worker process died: the batch goes on
                nb_json, run = job.notebook, asdict(Execution(error=f"worker died: {e}"))
            results.append(record(course, job, result, extra, nb_json, run))
            result.timings["record_s"] = round(time.monotonic() - started, 2)
            bar.update(1)
    bar.close()
    return sorted(results, key=lambda r: (r.student, r.assignment))
