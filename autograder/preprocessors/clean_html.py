"""A student's notebook is untrusted HTML: active content leaves it before anyone's browser sees it.

Feedback pages, nbgrader's formgrader (on the instructor's Jupyter server) and JupyterLab render a
graded notebook's markdown cells and outputs as HTML. This step removes what could run or load
anything there: ``<script>``, event handlers, ``javascript:`` and ``data:text/html`` URLs,
``<iframe>``/``<object>``/``<embed>``/``<form>``/``<meta>``/``<base>``/``<style>``, SVG with
script, ``foreignObject`` or external references, CSS that loads anything, and
``application/javascript``, widget and unknown outputs. The sanitizer and its allow-list are in
autograder/feedback/html_policy.py (nh3, not regular expressions). What a student legitimately shows
stays: Markdown, tables, MathML and LaTeX, PNG/JPEG/GIF and (cleaned) SVG plots, text.

Markdown is rendered with nbconvert's own renderer (the one nbgrader's formgrader uses), and only
a cell whose rendered HTML loses something to the sanitizer changes: it becomes the cleaned HTML,
so ordinary cells stay byte for byte. Error messages and stream text are kept: every renderer
(nbconvert, JupyterLab) escapes them. What was removed goes to ``findings.html_removed``.
"""

from __future__ import annotations

import base64
import os
import re

import jinja2
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_locked, is_solution

from ..feedback.html_policy import clean_fragment, clean_svg, differs, removed


# ---- markdown -----------------------------------------------------------------------------
class _AnyAttachment(dict):
    """A cell's attachments where a missing one is empty, not an error (nbconvert raises on a
    missing attachment, which would stop the whole page from rendering)."""

    def __contains__(self, name):
        return True

    def __getitem__(self, name):
        return super().get(name) or {"text/plain": ""}


class _KeepAttachmentLinks(IPythonRenderer):
    """nbconvert's renderer, leaving ``attachment:`` links as they are (not inlined as data)
    and noting the names they refer to in ``asked``."""

    def __init__(self, asked: set[str]):
        super().__init__(escape=False)
        self.asked = asked

    def _embed_image_or_attachment(self, src: str) -> str:
        if src.startswith("attachment:"):
            self.asked.add(src[len("attachment:"):])
            return src
        return super()._embed_image_or_attachment(src)


def render_markdown(source: str, asked: set[str] | None = None) -> str:
    """``source`` as nbconvert (and so nbgrader's formgrader) renders it, raw HTML included;
    the attachment names it refers to are added to ``asked``."""
    renderer = _KeepAttachmentLinks(asked if asked is not None else set())
    return MarkdownWithMath(renderer=renderer).render(source)


def _as_html_block(html: str) -> str:
    """Cleaned HTML as markdown that renders to exactly that HTML: one HTML block, which
    CommonMark passes through untouched up to the first blank line, so there is none."""
    lines = [line if line.strip() else "&#32;" for line in html.strip().split("\n")]
    return "<div class=\"rnn-grade-cleaned\">\n" + "\n".join(lines) + "\n</div>"


def clean_markdown(source: str) -> tuple[str, list[str]]:
    """(the markdown, the active content removed from it).

    The markdown is ``source`` itself when the sanitizer takes nothing from its rendering; when
    it takes anything, even something inert (a ``<style>``, a ``position: fixed`` that could
    cover the grader's page), the cleaned rendering replaces it, and only active content counts
    as removed.
    """
    rendered = render_markdown(source)
    cleaned = clean_fragment(rendered)
    if not differs(rendered, cleaned):
        return source, []
    gone = removed(rendered, cleaned)
    safe = _as_html_block(cleaned)
    if removed(render_markdown(safe), clean_fragment(render_markdown(safe))):
        fence = "~" * max(3, *(len(m) + 1 for m in re.findall(r"~+", source)))
        safe = f"{fence}\n{source}\n{fence}"  # shown as text, never as HTML
    return safe, gone


def clean_attachments(cell) -> list[str]:
    """Keeps raster images and cleaned SVG in ``cell.attachments``; names a markdown image
    refers to but that is missing get an empty placeholder, so renderers do not fail."""
    gone = []
    attachments = cell.get("attachments") or {}
    for name, bundle in list(attachments.items()):
        kept = {}
        for mime, data in (bundle or {}).items():
            if mime in RASTER:
                kept[mime] = data
            elif mime == "image/svg+xml":
                svg = _b64decode(data)
                safe = clean_svg(svg)
                if removed(svg, safe):
                    gone.append(f"<svg> of attachment {name}")
                kept[mime] = base64.b64encode(safe.encode()).decode()
            else:
                gone.append(f"{mime} attachment {name}")
        attachments[name] = kept or {"text/plain": ""}
    if cell.cell_type == "markdown":
        asked: set[str] = set()
        render_markdown(cell.source, asked)
        for name in asked - set(attachments):
            attachments[name] = {"text/plain": ""}
    if attachments:
        cell.attachments = attachments
    return gone


def _b64decode(data) -> str:
    text = "".join(data) if isinstance(data, list) else str(data)
    try:
        return base64.b64decode("".join(text.split()), validate=True).decode("utf-8", "replace")
    except ValueError:
        return text  # already plain text (some writers store SVG unencoded)


# ---- outputs ------------------------------------------------------------------------------
RASTER = {"image/png", "image/jpeg", "image/gif"}
# Shown as text or as an inert image by every renderer: kept as they are.
INERT = RASTER | {"text/plain", "text/latex", "application/json"}
CLEANED = {"text/html", "image/svg+xml", "text/markdown"}  # the rest goes
# Widgets only draw through a widget manager (script) and the notebook's widget state, which
# both go; they are removed without a flag, as ordinary code (tqdm.auto) makes them.
WIDGET = "application/vnd.jupyter.widget"


# nbconvert writes an image's width and height into the <img> tag unquoted (escaped, but a space
# still starts a new attribute): only a plain size may stay.
_SIZE = re.compile(r"\s*\d+(\.\d+)?\s*(px|%|em)?\s*")


def _clean_metadata(output) -> list[str]:
    metadata = output.get("metadata")
    if not isinstance(metadata, dict):
        return []
    gone = []
    for scope in [metadata, *(v for v in metadata.values() if isinstance(v, dict))]:
        for key in ("width", "height"):
            value = scope.get(key)
            if value is not None and not (isinstance(value, (int, float))
                                          and not isinstance(value, bool)
                                          or isinstance(value, str) and _SIZE.fullmatch(value)):
                del scope[key]
                gone.append(f"image {key} metadata")
    return gone


def clean_output(output) -> list[str]:
    """Cleans one output's data and metadata in place; returns what was removed."""
    data = output.get("data")
    if not isinstance(data, dict):
        return []  # stream and error outputs: text, escaped by every renderer
    gone = _clean_metadata(output)
    for mime in list(data):
        value = data[mime]
        lines = isinstance(value, list) and all(isinstance(v, str) for v in value)
        text = "".join(value) if lines else value
        if mime in INERT:
            continue
        if mime in CLEANED and not isinstance(text, str):  # no renderer expects it
            del data[mime]
            gone.append(f"{mime} output")
        elif mime == "text/html":
            data[mime] = clean_fragment(text)
            gone += removed(text, data[mime])
        elif mime == "image/svg+xml":
            data[mime] = clean_svg(text)
            gone += [f"{w} in SVG" for w in removed(text, data[mime])]
        elif mime == "text/markdown":
            data[mime], what = clean_markdown(text)
            gone += what
        else:  # application/javascript, widgets, PDF, anything a renderer might run
            del data[mime]
            output.get("metadata", {}).pop(mime, None)
            if not mime.startswith(WIDGET):  # a progress bar (tqdm.auto) is not an attack
                gone.append(f"{mime} output")
    if not data:
        data["text/plain"] = "[output removed by the grader: it could run in a browser]"
    return gone


def _clean_execution_counts(cell) -> list[str]:
    """nbconvert writes ``In [n]`` and ``Out[n]`` unescaped. nbclient sets n itself or validates
    what the kernel (the student's process) reports, but nothing after it checks: anything but a
    number is dropped here."""
    gone = []
    for holder in [cell, *cell.get("outputs", [])]:
        count = holder.get("execution_count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            holder["execution_count"] = None
            gone.append("a forged execution count")
    return gone


def _label(cell, index: int) -> str:
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return gid or f"added {cell.cell_type} cell {index}"


# The test suite's negative control: the students named here are graded without the cleaning
# (set in the environment, which the grading workers inherit). Never set in a real grading run.
UNCLEANED_FOR_TESTING = "TESTING_ONLY_RNN_GRADE_UNCLEANED_STUDENTS"


def _uncleaned_for_testing() -> set[str]:
    return {s.strip() for s in os.environ.get(UNCLEANED_FOR_TESTING, "").split(",") if s.strip()}


class CleanUntrustedHTML(NbGraderPreprocessor):
    """Removes active content from what the student wrote and what their code displayed.

    Read-only markdown cells are the release's own and stay. Adds ``cell -> [what]`` to
    ``resources["findings"].html_removed`` when the findings are there (grading); at feedback
    time it simply cleans again.
    """

    def preprocess(self, nb, resources):
        task = resources.get("task") if resources else None
        if task is not None and task.student in _uncleaned_for_testing():
            return nb, resources
        report: dict[str, list[str]] = {}
        for index, cell in enumerate(nb.cells):
            gone = []
            if cell.cell_type in ("markdown", "raw") and (is_solution(cell)
                                                          or not is_locked(cell)):
                gone += clean_attachments(cell)
                if cell.cell_type == "markdown":
                    cell.source, what = clean_markdown(cell.source)
                else:  # raw cells render as HTML when marked so; cleaned either way
                    what = removed(cell.source, clean_fragment(cell.source))
                    if what:
                        cell.source = clean_fragment(cell.source)
                gone += what
            for output in cell.get("outputs", []):
                gone += clean_output(output)
            gone += _clean_execution_counts(cell)
            if gone:
                report[_label(cell, index)] = list(dict.fromkeys(gone))
        nb.metadata.pop("widgets", None)  # widget state: rendered by widget managers (script)
        findings = resources.get("findings")
        if findings is not None and report:
            findings.html_removed.update(report)
        return nb, resources


# ---- page-level filters (the feedback page renders through the sanitizer as well) -----------
def clean_html_filter(html) -> str:
    """Jinja filter replacing nbconvert's ``clean_html`` (bleach with a list that drops MathML,
    headings and images) by this module's allow-list."""
    return clean_fragment(html.decode() if isinstance(html, bytes) else str(html))


@jinja2.pass_context
def markdown2html_clean(context, source: str) -> str:
    """Jinja filter: nbconvert's markdown rendering of a cell (attachments inlined), cleaned."""
    cell = context.get("cell", {})
    attachments = _AnyAttachment(cell.get("attachments", {}))
    renderer = IPythonRenderer(escape=False, attachments=attachments)
    return clean_fragment(MarkdownWithMath(renderer=renderer).render(source))
