"""The feedback page's own CSS: error messages wrap instead of scrolling sideways; MathML laid out.

nbgrader's `feedback` template inlines every stylesheet in `resources["inlining"]["css"]`, which
nbconvert's `CSSHTMLHeaderPreprocessor` fills; this step runs after it and adds the course's rules,
so the template's header need not be copied to add them.
"""

from __future__ import annotations

from nbgrader.preprocessors import NbGraderPreprocessor

FEEDBACK_CSS = """
/* A failing check's message is the first line of its error box: wrap it (and the frames under it)
   at the box's edge instead of making the student scroll sideways to read it. */
div.output_error pre, div.output_stderr pre, div.output_stdout pre, div.output_text pre {
  white-space: pre-wrap;
  overflow-wrap: anywhere;
  overflow-x: visible;
}
/* Long lines of code wrap too, so the page itself never grows wider than the window. */
div.input_area pre { white-space: pre-wrap; overflow-wrap: anywhere; }
/* Equations pre-rendered to MathML (autograder/preprocessors/latex_mathml.py). */
math { font-size: 1.1em; }
math[display="block"] { display: block math; margin: 0.6em 0; overflow: auto hidden; }
"""


class FeedbackStyle(NbGraderPreprocessor):
    """Adds `FEEDBACK_CSS` to the stylesheets the feedback template inlines."""

    def preprocess(self, nb, resources):
        inlining = resources.setdefault("inlining", {})
        inlining["css"] = [*inlining.get("css", []), FEEDBACK_CSS]
        return nb, resources
