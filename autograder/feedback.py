"""Feedback HTML per student and assignment: scores, the grader's reasons, no hidden tests.

Built with nbgrader's own pieces (ClearHiddenTests, GetGrades, the ``feedback`` HTML template),
plus one step nbgrader lacks: an error's traceback quotes the source lines it passed through, so
a failing hidden test would print itself; every traceback frame that quotes a hidden line is
replaced by a placeholder (frames in the student's own code and in libraries stay).
"""

import html
import os
import re

import nbformat
from jupyter_core.paths import jupyter_config_dir
from nbconvert import HTMLExporter
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades
from traitlets.config import Config

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
BEGIN, END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
HIDDEN_FRAME = "----> [a line of a hidden test: not shown]"


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


def _scrub_frame(frame: str, secret: set[str]) -> str:
    """Drops the quoted source lines of a traceback frame that belong to hidden tests."""
    kept = []
    for line in frame.split("\n"):
        plain = ANSI.sub("", line)
        if any(s in plain for s in secret) or BEGIN in plain or END in plain:
            if "---->" in plain or "-->" in plain:
                kept.append(HIDDEN_FRAME)  # the failing line itself is hidden
        else:
            kept.append(line)
    return "\n".join(kept)


def scrub_tracebacks(nb, secret: set[str]) -> None:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["traceback"] = [_scrub_frame(f, secret) for f in out.get("traceback", [])]
                if any(s in out.get("evalue", "") for s in secret):
                    out["evalue"] = "(message hidden: it quotes a hidden test)"
            elif out.get("output_type") == "stream" and (
                    BEGIN in out.get("text", "") or any(s in out.get("text", "") for s in secret)):
                out["text"] = "(output hidden: it quotes a hidden test)\n"


def _exporter() -> HTMLExporter:
    import nbgrader

    base = os.path.dirname(nbgrader.__file__)
    c = Config()
    c.HTMLExporter.template_name = "feedback"
    c.HTMLExporter.extra_template_basedirs = [
        os.path.join(base, "server_extensions", "formgrader", "templates")]
    c.HTMLExporter.extra_template_paths = [os.path.join(
        base, "server_extensions", "formgrader", "static", "node_modules", "bootstrap", "dist",
        "css")]
    return HTMLExporter(config=c)


def write_feedback(course, result: dict) -> str | None:
    """Writes ``<course>/feedback/<student>/<assignment>/<assignment>.html``; returns its path."""
    student, assignment = result["student"], result["assignment"]
    path = course.feedback_path(student, assignment)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    summary = (f"<div style='border:2px solid #888;padding:8px;margin:8px'>"
               f"<h3>{html.escape(assignment)}: {html.escape(result['status'])}</h3>"
               f"<p>Score: {result['score'] if result['score'] is not None else '-'}"
               f" / {result['max_score'] if result['max_score'] is not None else '-'}</p><ul>"
               + "".join(f"<li>{html.escape(r)}</li>" for r in result["reasons"])
               + "</ul></div>")
    autograded = result.get("autograded")
    if not autograded or not os.path.exists(autograded):
        with open(path, "w") as f:
            f.write(f"<html><body><h2>{html.escape(student)}</h2>{summary}"
                    "<p>This submission could not be graded.</p></body></html>")
        return path
    nb = nbformat.read(autograded, as_version=4)
    secret = hidden_lines(nb)
    resources = {"nbgrader": {"db_url": course.db_url, "assignment": assignment,
                              "notebook": assignment, "student": student}}
    nb, resources = ClearHiddenTests(enforce_metadata=False).preprocess(nb, resources)
    scrub_tracebacks(nb, secret)
    nb, resources = GetGrades().preprocess(nb, resources)
    resources["config_dir"] = jupyter_config_dir()  # where nbconvert looks for custom.css
    nb, resources = CSSHTMLHeaderPreprocessor().preprocess(nb, resources)
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    body, n = re.subn(r"(<body[^>]*>)", lambda m: m.group(1) + summary, body, count=1)
    body = body if n else summary + body
    with open(path, "w") as f:
        f.write(body)
    return path
