"""The notebooks' LaTeX turned into MathML on the grading machine, so feedback needs no MathJax.

nbconvert's HTML leaves `$...$` in the page for MathJax, loaded from a CDN: offline, or where the
CDN is blocked, the student sees raw TeX. Rendered here with `latex2mathml`, each equation becomes
a `<math>` element that browsers draw natively (Chromium since 109, Firefox, Safari); the page
stays one self-contained file that needs neither JavaScript nor a network.

Math is found as MathJax finds it in notebooks: `$$...$$`, `\\[...\\]`, `\\begin{env}...\\end{env}`
(display), `$...$` and `\\(...\\)` (inline), never inside code spans or fenced code. An
expression latex2mathml cannot parse is left as TeX, shown as code, and logged.
"""

from __future__ import annotations

import re

import latex2mathml.converter
from nbgrader.preprocessors import NbGraderPreprocessor

# Code is protected first: fenced blocks, then inline code spans of any number of backticks.
_CODE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n.*?^\1[ \t]*$|(`+)(?!`).+?(?<!`)\2(?!`)",
                   re.S | re.M)
_MATH = re.compile(
    r"\$\$(?P<dollars>.+?)\$\$"
    r"|\\\[(?P<brackets>.+?)\\\]"
    r"|(?P<env>\\begin\{(?P<name>[a-zA-Z]+\*?)\}.+?\\end\{(?P=name)\})"
    r"|\\\((?P<parens>.+?)\\\)"
    # $...$: not $$, no space just inside the dollars, no newline, \$ is a literal dollar.
    r"|(?<![\\$])\$(?![\s$])(?P<dollar>(?:\\.|[^$\\\n])+?)(?<!\s)\$(?!\d)",
    re.S,
)
# Text between tags: what markdown would otherwise read as emphasis, escapes or code.
_TEXT = re.compile(r">([^<]+)<")
_MARKDOWN_SPECIAL = {"*": "&#42;", "_": "&#95;", "\\": "&#92;", "`": "&#96;", "$": "&#36;"}


def _markdown_safe(mathml: str) -> str:
    return _TEXT.sub(
        lambda m: ">" + "".join(_MARKDOWN_SPECIAL.get(ch, ch) for ch in m.group(1)) + "<",
        mathml)


def to_mathml(tex: str, display: bool) -> str:
    """One expression as a `<math>` element on a single line, safe inside markdown."""
    mathml = latex2mathml.converter.convert(tex.strip(), display="block" if display else "inline")
    return _markdown_safe(mathml.replace("\n", ""))


def render_math(markdown: str, failures: list[str] | None = None) -> str:
    """`markdown` with every math expression outside code replaced by MathML.

    Expressions latex2mathml cannot convert stay as TeX in a code span; their TeX is appended
    to `failures` when a list is given.
    """

    def convert(match):
        tex = next(g for g in (match.group("dollars"), match.group("brackets"),
                               match.group("env"), match.group("parens"),
                               match.group("dollar")) if g is not None)
        display = match.group("dollar") is None and match.group("parens") is None
        try:
            return to_mathml(tex, display)
        except Exception:  # noqa: BLE001 - any parser error: show the TeX rather than nothing
            if failures is not None:
                failures.append(tex)
            return "``" + match.group(0).replace("\n", " ") + "``"

    pieces, last = [], 0
    for code in _CODE.finditer(markdown):
        pieces.append(_MATH.sub(convert, markdown[last:code.start()]))
        pieces.append(code.group(0))
        last = code.end()
    pieces.append(_MATH.sub(convert, markdown[last:]))
    return "".join(pieces)


class RenderLatexAsMathML(NbGraderPreprocessor):
    """Replaces the LaTeX of every markdown cell by MathML (see the module's docstring)."""

    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                failures = []
                cell.source = render_math(cell.source, failures)
                for tex in failures:
                    self.log.warning("LaTeX left as text (latex2mathml cannot read it): %s", tex)
        return nb, resources
