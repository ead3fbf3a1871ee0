"""Feedback HTML per student and assignment: nbgrader's GenerateFeedback, without hidden tests.

nbgrader's converter renders each autograded notebook with its scores; rnn-grade runs it with
two more steps in front of its preprocessor list (the hidden tests leave the cells and the
tracebacks) and with a template that extends nbgrader's ``feedback`` template by rnn-grade's
verdict (status and reasons, from the autograded notebook's metadata). A submission that could
not be graded has no autograded notebook, so nbgrader has nothing to render: a short page written
here says why.

The notebook was cleaned of active HTML when it was graded; the page cleans it again (the same
step, then nbconvert's sanitizing mode with the course's allow-list as its filters) and carries a
Content-Security-Policy that runs no script at all (autograder/docs/html.md).
"""

import html
import os
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, GetGrades
from nbgrader.utils import capture_log, temp_attrs
from traitlets import Bool, List
from traitlets.config import Config

from ..preprocessors.clean_html import CleanUntrustedHTML
from ..preprocessors.feedback_style import FeedbackStyle
from ..preprocessors.latex_mathml import RenderLatexAsMathML
from ..preprocessors.readable_errors import ReadableErrors
from ..preprocessors.scrub import ScrubHiddenTracebacks
from ..results import Result

TEMPLATES = str(Path(__file__).resolve().parent / "templates")
TEMPLATE = "rnn_grade_feedback"  # extends nbgrader's "feedback"
# The pages run no script of their own: none may run (MathML needs none; styles are inline).
CSP = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
       "font-src data:; base-uri 'none'; form-action 'none'")
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
FEEDBACK_PREPROCESSORS = [
    ScrubHiddenTracebacks,  # first: it reads the hidden-test lines that the next step removes
    ClearHiddenTests,  # nbgrader's own: the hidden blocks leave the test cells
    ReadableErrors,  # after the scrub: only the frames and message the student may see remain
    CleanUntrustedHTML,  # again, as at grading: a notebook graded by an older grader is cleaned
    RenderLatexAsMathML,  # after the cleaning: its MathML is ours, the student's HTML is gone
    GetGrades,  # nbgrader's default list from here on: scores from the gradebook
    CSSHTMLHeaderPreprocessor,
    FeedbackStyle,  # after CSSHTMLHeaderPreprocessor, which resets the inlined stylesheets
]


class CourseFeedback(GenerateFeedback):
    """nbgrader's GenerateFeedback with the hidden tests removed and the course's template."""

    preprocessors = List(FEEDBACK_PREPROCESSORS).tag(config=True)
    clean_pages = Bool(
        True, help="Clean the notebook's HTML again while rendering and forbid every script "
                   "with a Content-Security-Policy. Off only in tests that show what these "
                   "defences stop.").tag(config=True)

    def __init__(self, coursedir=None, **kwargs):
        super().__init__(coursedir=coursedir, **kwargs)
        c = Config()
        c.HTMLExporter.template_name = TEMPLATE
        if self.clean_pages:
            # nbconvert's sanitizing mode: no script for application/javascript or widget
            # outputs, and its clean_html filter on HTML and markdown, here with the course's
            # allow-list (nbconvert's own drops MathML, headings and images).
            c.HTMLExporter.sanitize_html = True
            c.HTMLExporter.filters = {
                "clean_html": "autograder.preprocessors.clean_html.clean_html_filter",
                # nbgrader's feedback template renders markdown without clean_html.
                "markdown2html": "autograder.preprocessors.clean_html.markdown2html_clean"}
        else:
            self.preprocessors = [p for p in self.preprocessors if p is not CleanUntrustedHTML]
        # nbgrader's __init__ has just put its own template folder here; ours goes beside it,
        # and that folder is searched as well, so ours can extend 'feedback/index.html.j2'.
        nbgrader_templates = list(self.config.HTMLExporter.get("extra_template_basedirs", []))
        c.HTMLExporter.extra_template_basedirs = [*nbgrader_templates, TEMPLATES]
        c.HTMLExporter.extra_template_paths = [
            *self.config.HTMLExporter.get("extra_template_paths", []), *nbgrader_templates]
        # A student's own cell that quotes the hidden-test markers must not stop the feedback.
        c.ClearHiddenTests.enforce_metadata = False
        self.update_config(c)

    def init_single_notebook_resources(self, notebook_filename):
        resources = super().init_single_notebook_resources(notebook_filename)
        resources["rnn_grade_csp"] = CSP if self.clean_pages else None  # the template's header
        return resources


def generate(course, assignment: str, student: str = "*") -> None:
    """Runs CourseFeedback on ``autograded/<student>/<assignment>/`` (``*``: every student).

    Raises:
        RuntimeError: nbgrader could not render it; the message carries its log.
    """
    coursedir = CourseDirectory(config=course.config)
    with temp_attrs(coursedir, assignment_id=assignment, student_id=student):
        app = CourseFeedback(coursedir=coursedir, config=course.config)
        app.force = True
        outcome = capture_log(app)  # as NbGraderAPI.generate_feedback runs it
    if not outcome["success"]:
        raise RuntimeError(f"nbgrader generate_feedback {assignment} for {student} failed:\n"
                           f"{outcome.get('log', '')}\n{outcome.get('error', '')}")


def write_feedback(course, results: list[Result]) -> list[str]:
    """Writes ``<feedback>/<student>/<assignment>/<assignment>.html`` for each result; returns
    their paths."""
    paths = []
    for r in results:
        student, assignment = r.student, r.assignment
        path = course.feedback_path(student, assignment)
        autograded = r.autograded
        if autograded and os.path.exists(autograded):
            generate(course, assignment, student)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(_not_graded_page(r))
        paths.append(path)
    return paths


def _not_graded_page(r: Result) -> str:
    reasons = "".join(f"<li>{html.escape(x)}</li>" for x in r.reasons)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'>{CSP_META}<title>"
            f"{html.escape(r.assignment)}</title></head><body>"
            f"<h2>{html.escape(r.student)}: {html.escape(r.assignment)}</h2>"
            f"<h3>{html.escape(r.status)}</h3><ul>{reasons}</ul>"
            "<p>This submission could not be graded.</p></body></html>")
