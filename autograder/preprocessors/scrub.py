"""Hide the lines of hidden tests that tracebacks and outputs would quote in feedback.

A failing hidden test's traceback quotes the source lines it passed through, so the feedback
would print the test; nbgrader's ClearHiddenTests removes the hidden blocks from the cells but
not from the outputs. Every traceback frame line that quotes a hidden line is dropped (the
failing line itself becomes a placeholder); frames in the student's own code and in libraries
stay. An error message or a stream output that quotes a hidden line is replaced whole.
Must run before ClearHiddenTests: it reads the hidden lines from the cells.
"""

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


class ScrubHiddenTracebacks(NbGraderPreprocessor):
    """Tracebacks, error messages and streams without hidden-test code."""

    def preprocess(self, nb, resources):
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
