"""CleanUntrustedHTML without a browser: what goes, what stays, ordinary cells untouched.

The browser test (tests/test_html_untrusted.py) shows that nothing runs in the real pages; these
check the rules one by one and run in a second.
"""

import base64
import io
import xml.dom.minidom
from pathlib import Path

import matplotlib
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.feedback.html_policy import clean_fragment, clean_svg, removed
from autograder.grading.task import Findings
from autograder.preprocessors.clean_html import CleanUntrustedHTML, clean_markdown, clean_output

matplotlib.use("agg")

ORDINARY_MARKDOWN = [
    "# Title\nSome $x^2 < y$ and `a<b`, **bold**, a [link](https://keras.io).",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "<table><tr><td>x</td></tr></table> <sub>2</sub> <span style=\"color: red\">red</span>",
    "- [x] done\n- [ ] to do",
    "```python\nif a < b:\n    print('<b>')\n```\n> a quote",
    "$$\\sum_{i=1}^n x_i \\lt 3$$ and <br> a line <img src=\"figure.png\" alt=\"f\">",
]


@pytest.mark.parametrize("source", ORDINARY_MARKDOWN)
def test_ordinary_markdown_is_kept_byte_for_byte(source):
    assert clean_markdown(source) == (source, [])


@pytest.mark.parametrize("payload, what", [
    ("<script>alert(1)</script>", "<script>"),
    ('<img src=x onerror="alert(1)">', "<img onerror>"),
    ('<a href="javascript:alert(1)">x</a>', "<a href>"),
    ("[x](javascript:alert(1))", "<a href>"),
    ("[x](files/javascript:alert(1))", "<a href>"),  # nbconvert strips "files/" when rendering
    ('<a href="/files/files/vbscript:x">x</a>', "<a href>"),
    ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "<a href>"),
    ('<iframe src="https://example.org"></iframe>', "<iframe>"),
    ('<object data="x.swf"></object>', "<object>"),
    ('<embed src="x.swf">', "<embed>"),
    ('<form action="https://example.org"><button>go</button></form>', "<form>"),
    ('<meta http-equiv="refresh" content="0;url=https://example.org">', "<meta>"),
    ('<base href="https://example.org/">', "<base>"),
    ("<style>@import url(https://example.org/x.css);</style>", "<style>"),
    ('<p style="background-image: url(https://example.org/x.png)">x</p>', "<p style>"),
    ('<svg onload="alert(1)"></svg>', "<svg onload>"),
    ("<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>", "<foreignobject>"),
    ('<svg><animate attributeName="href" to="javascript:alert(1)"/></svg>', "<animate>"),
    ('```mermaid\n<img src=x onerror="alert(1)">\n```', "<img onerror>"),
    ('<details open ontoggle="alert(1)"><summary>s</summary></details>', "<details ontoggle>"),
])
def test_active_markdown_is_removed_and_named(payload, what):
    cleaned, gone = clean_markdown(f"Before.\n\n{payload}\n\nAfter $x^2$.")
    assert what in gone
    assert clean_markdown(cleaned) == (cleaned, [])  # cleaning twice changes nothing
    for active in ("alert(", "javascript:", "example.org", "<script", "onerror", "<iframe"):
        assert active not in cleaned, cleaned
    assert "Before." in cleaned and "After" in cleaned


def test_inert_html_that_could_restyle_the_page_goes_without_a_flag():
    source = ('<div style="position: fixed; top: 0; width: 100%; color: red">Score: 10/10</div>'
              "\n\n<style>.rnn-grade-verdict { display: none }</style>")
    cleaned, gone = clean_markdown(source)
    assert gone == [] and "position" not in cleaned and "display: none" not in cleaned
    assert "color:red" in cleaned and "Score: 10/10" in cleaned


def test_an_inert_style_element_goes_without_a_flag():
    html = "<style>.dataframe td { color: red }</style><table><tr><td>1</td></tr></table>"
    assert removed(html, clean_fragment(html)) == []
    assert "<style" not in clean_fragment(html)  # it would restyle the grader's page


def _matplotlib_svg() -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    ax.imshow([[0, 1], [1, 0]])
    ax.set_title("loss < 1 & falling")
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    return buffer.getvalue()


def test_a_matplotlib_svg_stays_a_valid_drawing_without_a_flag():
    svg = _matplotlib_svg()
    cleaned = clean_svg(svg)
    assert removed(svg, cleaned) == []
    document = xml.dom.minidom.parseString(cleaned)  # an <img> needs well-formed XML
    assert document.getElementsByTagName("path") and document.getElementsByTagName("image")
    assert 'href="data:image/png;base64,' in cleaned  # imshow's raster survives


def test_svg_loses_script_handlers_foreign_objects_and_external_references():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           'onload="alert(1)"><script>alert(2)</script><foreignObject><p>x</p></foreignObject>'
           '<use xlink:href="https://example.org/s.svg#a"/><use xlink:href="#local"/>'
           '<image href="https://example.org/x.png"/><rect fill="url(https://example.org/#p)"/>'
           '<a xlink:href="javascript:alert(3)"><text>t</text></a></svg>')
    cleaned = clean_svg(svg)
    for active in ("alert", "example.org", "foreignObject", "<script"):
        assert active not in cleaned, cleaned
    assert 'xlink:href="#local"' in cleaned
    xml.dom.minidom.parseString(cleaned)


def test_outputs_keep_what_is_inert_and_lose_what_could_run():
    html = new_output("display_data", {"text/html": "<b>ok</b><script>x()</script>",
                                       "text/plain": "<ok>"})
    js = new_output("display_data", {"application/javascript": "x()"})
    widget = new_output("display_data", {
        "application/vnd.jupyter.widget-view+json": {"model_id": "m"}, "text/plain": "w"})
    latex = new_output("display_data", {"text/latex": r"$\frac{1}{2}$"})
    stream = new_output("stream", name="stdout", text="<script>x()</script>\n")
    assert clean_output(html) == ["<script>"] and html.data["text/html"] == "<b>ok</b>"
    assert html.data["text/plain"] == "<ok>"
    assert clean_output(js) == ["application/javascript output"]
    assert list(js.data) == ["text/plain"]  # a note instead of nothing
    assert clean_output(widget) == [] and list(widget.data) == ["text/plain"]  # not flagged
    image = new_output("display_data", {"image/png": "iVBORw0KGgo="}, metadata={
        "image/png": {"width": "1 onerror=alert(1)", "height": 40}, "width": "50%"})
    assert clean_output(image) == ["image width metadata"]
    assert image.metadata == {"image/png": {"height": 40}, "width": "50%"}
    odd = new_output("display_data", {"text/plain": "x"})
    odd.data["text/html"] = [{"not": "text"}]
    assert clean_output(odd) == ["text/html output"] and list(odd.data) == ["text/plain"]
    assert clean_output(latex) == [] and clean_output(stream) == []
    assert stream.text == "<script>x()</script>\n"  # text: every renderer escapes it


def test_an_execution_count_that_is_not_a_number_goes():
    """nbconvert prints the count as ``In [n]``, unescaped."""
    nb = new_notebook(cells=[new_code_cell("x", execution_count=3, outputs=[
        new_output("execute_result", {"text/plain": "1"}, execution_count=3)])])
    cell = nb.cells[0]
    cell.execution_count = "<img src=x onerror=alert(1)>"
    cell.outputs[0].execution_count = "<script>alert(2)</script>"
    findings = Findings()
    CleanUntrustedHTML().preprocess(nb, {"findings": findings})
    assert cell.execution_count is None and cell.outputs[0].execution_count is None
    assert findings.html_removed == {"added code cell 0": ["a forged execution count"]}


def _notebook():
    answer = new_markdown_cell("My answer <img src=x onerror=alert(1)>")
    answer.metadata.nbgrader = {"grade_id": "explain", "solution": True, "grade": True,
                                "locked": False, "points": 1}
    given = new_markdown_cell("<iframe src='https://course.example/video'></iframe>")
    given.metadata.nbgrader = {"grade_id": "intro", "locked": True, "solution": False,
                               "grade": False}
    added = new_markdown_cell("![plot](attachment:p.svg) ![gone](attachment:missing.png)")
    svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
    added.attachments = {"p.svg": {"image/svg+xml": base64.b64encode(svg.encode()).decode(),
                                   "text/html": "PHNjcmlwdD4="}}
    code = new_code_cell("display(...)", outputs=[
        new_output("display_data", {"application/javascript": "x()"})])
    nb = new_notebook(cells=[given, answer, added, code])
    nb.metadata.widgets = {"application/vnd.jupyter.widget-state+json": {}}
    return nb


def test_the_step_cleans_student_cells_and_reports_each_to_the_findings():
    nb, findings = _notebook(), Findings()
    nb, _ = CleanUntrustedHTML().preprocess(nb, {"findings": findings})
    assert findings.html_removed == {
        "explain": ["<img onerror>"],
        "added markdown cell 2": ["<svg> of attachment p.svg", "text/html attachment p.svg"],
        "added code cell 3": ["application/javascript output"]}
    assert "iframe" in nb.cells[0].source  # the release's own (read-only) cell is trusted
    assert "onerror" not in nb.cells[1].source
    svg = base64.b64decode(nb.cells[2].attachments["p.svg"]["image/svg+xml"]).decode()
    assert "onload" not in svg and "text/html" not in nb.cells[2].attachments["p.svg"]
    # A missing attachment would stop nbconvert (and so the page): it gets a placeholder.
    assert "missing.png" in nb.cells[2].attachments
    assert "widgets" not in nb.metadata
    nbformat.validate(nb)


def test_an_ordinary_notebook_comes_out_unchanged():
    png = base64.b64encode(b"\x89PNG fake").decode()
    nb = new_notebook(cells=[new_markdown_cell(s) for s in ORDINARY_MARKDOWN] + [
        new_code_cell("plot()", outputs=[new_output("display_data", {
            "image/png": png, "image/svg+xml": clean_svg(_matplotlib_svg()),
            "text/plain": "<Figure>"})])])
    before = nbformat.writes(nb)
    findings = Findings()
    nb, _ = CleanUntrustedHTML().preprocess(nb, {"findings": findings})
    assert findings.html_removed == {}
    assert nbformat.writes(nb) == before


SOLUTIONS = sorted((Path(__file__).parent.parent / "solutions").glob("*.ipynb"))


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_the_course_s_own_executed_notebooks_come_out_unchanged(path):
    """Every markdown cell (the release's too, read-only or not) and every output of the
    executed solutions: plots, equations, tables and text are what ordinary notebooks show."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert clean_markdown(cell.source) == (cell.source, []), cell.source[:200]
    before = nbformat.writes(nb)
    findings = Findings()
    nb, _ = CleanUntrustedHTML().preprocess(nb, {"findings": findings})
    assert findings.html_removed == {} and nbformat.writes(nb) == before
