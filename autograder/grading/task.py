"""What one notebook's grading takes in and gives back: plain, picklable data.

``grade_notebook(GradingTask) -> Graded`` (autograder/grading/pipeline.py) needs nothing else:
not the course folder, not the gradebook, not a shared file system. So it runs the same in a
local worker process or on a cluster worker; only the parent reads the gradebook (to fill
``source_cells``) and writes it (``record``). ``Findings`` is what the steps of the pipeline
learn about the notebook; it travels between them in ``resources["findings"]`` and comes back
inside ``Graded``.
"""

from dataclasses import dataclass, field

from ..sandbox.isolation import Isolation
from .limits import Limits
from .scan_rules import Finding


@dataclass(frozen=True)
class SourceCell:
    """The gradebook's copy of a graded or locked cell (hidden tests included)."""

    name: str  # grade id
    cell_type: str
    source: str
    locked: bool
    checksum: str | None
    max_score: float | None = None  # None: not a graded cell


@dataclass
class GradingTask:
    """Everything needed to grade one submission, as plain data."""

    student: str
    assignment: str
    submission: bytes  # the file as handed in (it may be empty or damaged)
    release: str  # the released notebook, JSON: the skeleton the submission is rebuilt on
    source_cells: dict[str, SourceCell]  # grade id -> the gradebook's cell (hidden tests in)
    limits: Limits = field(default_factory=Limits)
    forbidden: dict[str, list[str]] = field(default_factory=dict)  # definition -> dotted names
    files: dict[str, bytes] = field(default_factory=dict)  # the release folder's other files
    deny: list[str] = field(default_factory=list)  # folders the kernel may not read
    threads: int = 0  # math-library threads for the kernel (0: the libraries' default)
    # The kernel's OS isolation, chosen once for the run (autograder.sandbox.isolation.choose).
    sandbox: Isolation | None = None
    notes: list[str] = field(default_factory=list)  # what finding the file said (a wrong name)
    late: bool = False  # the LMS marked the submission late (see grade.late_timestamp)
    secret: str = ""  # the course secret the judge draws its cases from (never sent to a kernel)
    # module -> attributes the runtime guard watches besides its own (the course's policy)
    protected: dict[str, list[str] | str] = field(default_factory=dict)
    # False only for the instructor's own notebooks (the build's solutions): their hidden tests
    # run in their kernel, no judge.
    judge: bool = True


@dataclass
class Execution:
    """What happened while the kernel ran the notebook."""

    kernel_start_s: float = 0.0
    setup_s: float = 0.0
    student_s: float = 0.0
    judge_s: float = 0.0  # the judge's own seconds (hidden checks, its calls into the kernel)
    judge_calls: int = 0  # calls the judge made into the kernel
    setup_failed: str | None = None  # grade id and error of a failed set-up cell
    died: str | None = None  # why the kernel stopped early, and in which cell
    timed_out: list[str] = field(default_factory=list)  # cells that hit a time limit
    output_cut: list[str] = field(default_factory=list)  # cells whose output passed the cap
    patched: dict[str, list[str]] = field(default_factory=dict)  # test cell -> replaced names
    sandbox: list[dict] = field(default_factory=list)  # refused operations, with the cell
    error: str | None = None  # the grader itself failed (bug or infrastructure)


@dataclass
class Findings:
    """What the pipeline's steps found; each step adds its part."""

    unreadable: str | None = None  # why the file cannot be graded at all
    repairs: list[str] = field(default_factory=list)  # what rebuilding on the release undid
    exercise_of: dict[str, str] = field(default_factory=dict)  # test grade id -> answer grade id
    answer_sources: dict[str, str] = field(default_factory=dict)  # answer grade id -> code
    scan: list[Finding] = field(default_factory=list)  # the static scan of student code
    execution: Execution = field(default_factory=Execution)
    cheated: dict[str, list[str]] = field(default_factory=dict)  # exercise -> why no points
    # cell -> the active HTML removed from it (scripts, handlers...): flagged, no points taken
    html_removed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def stopped(self) -> str | None:
        """Why later steps must not run (the notebook gets no score), or None."""
        run = self.execution
        if self.unreadable:
            return self.unreadable
        if run.error:
            return f"grader error: {run.error}"
        return run.setup_failed


@dataclass
class Graded:
    """The worker's answer: the executed notebook (JSON; None if it never ran) and the findings."""

    notebook: str | None
    findings: Findings
