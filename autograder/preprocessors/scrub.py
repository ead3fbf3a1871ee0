"""Hide the lines of hidden tests that tracebacks and outputs would quote in feedback.

nbgrader's ClearHiddenTests removes the hidden blocks from the cells but not from the outputs.
The judge reports a failing hidden check as ``ename: message`` without a traceback, but hidden
lines still reach an autograded notebook's outputs where a submission prints the course's files
(graded with ``--sandbox none``, the fallback where bubblewrap cannot run, nothing hides the
gradebook and the source notebooks from native code), and in the tracebacks of hidden blocks run
in the kernel (an assignment in ``HIDDEN_IN_KERNEL``, or a notebook autograded by plain nbgrader).
Every traceback frame line that quotes a hidden line is dropped (the failing line itself becomes
a placeholder); frames in the student's own code and in libraries stay. An error message or a
stream output that quotes a hidden line is replaced whole.
Must run before ClearHiddenTests: it reads the hidden lines from the cells.
"""

import os

from nbconvert.filters import strip_ansi
from nbgrader.preprocessors import NbGraderPreprocessor

BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
HIDDEN_FRAME = "----> [a line of a hidden test: not shown]"
HIDDEN_MESSAGE = "(message hidden: it quotes a hidden test)"
HIDDEN_OUTPUT = "(output hidden: it quotes a hidden test)\n"


def hidden_lines(nb) -> set[str]:
    """Every non-trivial source line inside a hidden-test block of the notebook."""
    lines, inside = set(), False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            if BEGIN in line:
                inside = True
            elif END in line:
                inside = False
            elif inside and len(line.strip()) > 3:
                lines.add(line.strip())
    return lines


def scrub_frame(frame: str, secret: set[str]) -> str:
    """A traceback frame without the source lines that belong to hidden tests."""
    kept = []
    for line in frame.split("\n"):
        plain = strip_ansi(line)
        if any(s in plain for s in secret) or BEGIN in plain or END in plain:
            if "-->" in plain:
                kept.append(HIDDEN_FRAME)  # the failing line itself is hidden
        else:
            kept.append(line)
    return "\n".join(kept)


# The test suite's negative control: the feedback of the students named here is rendered without
# the scrubbing (set in the environment). Never set in a real run.
UNSCRUBBED_FOR_TESTING = "TESTING_ONLY_RNN_GRADE_UNSCRUBBED_STUDENTS"


def _unscrubbed_for_testing() -> set[str]:
    return {s.strip() for s in os.environ.get(UNSCRUBBED_FOR_TESTING, "").split(",") if s.strip()}


class ScrubHiddenTracebacks(NbGraderPreprocessor):
    """Tracebacks, error messages and streams without hidden-test code."""

    def preprocess(self, nb, resources):
        student = (resources or {}).get("nbgrader", {}).get("student")
        if student is not None and student in _unscrubbed_for_testing():
            return nb, resources
        self.secret = hidden_lines(nb)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        secret = self.secret
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [scrub_frame(f, secret) for f in out.get("traceback", [])]
                if any(s in strip_ansi(out.get("evalue", "")) for s in secret):
                    out["evalue"] = HIDDEN_MESSAGE
            elif out.get("output_type") == "stream":
                text = out.get("text", "")
                if BEGIN in text or any(s in text for s in secret):
                    out["text"] = HIDDEN_OUTPUT
        return cell, resources
