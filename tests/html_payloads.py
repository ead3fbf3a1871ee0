"""A catalogue of active-content payloads a student could hand in, and the notebooks carrying them.

Each payload, if it ran, leaves a trace the browser test can read: script pushes its id onto
``window.__pwned``; what loads something (CSS, frames, a refresh, a ``<base>``) requests
``http://127.0.0.1:<port>/<id>`` from the test's beacon server; what only waits (a form) stays in
the page as an attribute carrying the beacon's address. ``live_in`` names the pages where
the payload does run when nothing is cleaned (the negative control checks it does); the others are
already inert there (nbconvert escapes stream and error text, draws SVG outputs as images, and
the feedback page has no jQuery for ``application/javascript``'s wrapper), and are in the
catalogue so that no cleaning ever makes them live.
"""

import base64
import copy
from dataclasses import dataclass

FEEDBACK, FORMGRADER = "feedback", "formgrader"
BOTH = frozenset({FEEDBACK, FORMGRADER})


def js(pid: str, w: str = "window") -> str:
    """Script that records on ``w`` that payload ``pid`` ran (no quotes but single ones)."""
    return f"({w}.__pwned={w}.__pwned||[]).push('{pid}')"


@dataclass(frozen=True)
class Payload:
    pid: str
    where: str  # a markdown cell, an output, an attachment, a file name, a grade id
    live_in: frozenset  # the pages where it runs when nothing is cleaned


# Markdown cells the student adds: every kind of active HTML the issue names.
MARKDOWN = {
    "md-script": lambda b: f"Before <script>{js('md-script')}</script> after.",
    "md-img-onerror": lambda b: f'An image: <img src="nope.png" onerror="{js("md-img-onerror")}">',
    "md-svg-onload": lambda b: f'<svg width="10" height="10" onload="{js("md-svg-onload")}">'
                               f'<rect width="10" height="10"/></svg>',
    "md-svg-script": lambda b: f"<svg><script>{js('md-svg-script')}</script></svg>",
    "md-javascript-link": lambda b: f'<a href="javascript:{js("md-javascript-link")}">click me</a>',
    "md-markdown-link": lambda b: f"[a markdown link](javascript:{js('md-markdown-link')})",
    # The formgrader's and feedback's templates strip "files/" from links after rendering.
    "md-files-prefix": lambda b: f"[a file](files/javascript:{js('md-files-prefix')})",
    "md-iframe": lambda b: f'<iframe srcdoc="<script>{js("md-iframe", "parent")}</script>">'
                           '</iframe>'
                           f'<iframe src="{b}/md-iframe"></iframe>',
    "md-object-embed": lambda b: f'<object data="{b}/md-object-embed/o"></object>'
                                 f'<embed src="{b}/md-object-embed/e">',
    "md-meta-refresh": lambda b: f'<meta http-equiv="refresh" content="2;url={b}/md-meta-refresh">',
    "md-base": lambda b: f'<base href="{b}/md-base/"><img src="relative-after-base.png">',
    "md-css-import": lambda b: f"<style>@import url({b}/md-css-import);</style>",
    "md-css-background": lambda b: f'<div style="background-image: url({b}/md-css-background);'
                                   f' height: 5px">bg</div>',
    "md-form": lambda b: f'<form action="{b}/md-form"><input name="q" value="1">'
                         "<button>send</button></form>",
    "md-mermaid": lambda b: f'```mermaid\n<img src="nope.png" onerror="{js("md-mermaid")}">\n```',
    "md-details-ontoggle": lambda b: f'<details open ontoggle="{js("md-details-ontoggle")}">'
                                     "<summary>s</summary>x</details>",
    "md-mathml-href": lambda b: f'<math><mi href="javascript:{js("md-mathml-href")}">x</mi></math>',
}

# All but MathML's href, which Chromium does not follow (it is removed all the same).
LIVE_MARKDOWN = {"md-script", "md-img-onerror", "md-svg-onload", "md-svg-script",
                 "md-javascript-link", "md-markdown-link", "md-files-prefix", "md-iframe",
                 "md-object-embed", "md-meta-refresh", "md-base", "md-css-import",
                 "md-css-background", "md-form", "md-mermaid", "md-details-ontoggle"}

SVG_DOC = ('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" onload="{a}">'
           '<script>{b}</script><foreignObject width="20" height="20">'
           '<img xmlns="http://www.w3.org/1999/xhtml" src="nope.png" onerror="{c}"/>'
           '</foreignObject><image href="{beacon}/out-svg/image"/>'
           '<rect width="20" height="20" fill="red"/></svg>')

def _img(pid: str) -> str:
    return f'<img src="nope.png" onerror="{js(pid)}">'


# Code cells the student adds: outputs of every kind their code can produce.
OUTPUT_CODE = {
    "out-html": lambda b: f"display(HTML({_img('out-html')!r}))",
    "out-html-script": lambda b: "display(HTML({!r}))".format(
        f"<script>{js('out-html-script')}</script>"),
    "out-html-svg": lambda b: "display(HTML({!r}))".format(
        f'<svg width="9" height="9" onload="{js("out-html-svg")}">'
        '<rect width="9" height="9"/></svg>'),
    "out-svg": lambda b: "display(SVG({!r}))".format(SVG_DOC.format(
        a=js("out-svg-onload"), b=js("out-svg-script"), c=js("out-svg-foreign"), beacon=b)),
    "out-markdown": lambda b: f"display(Markdown({_img('out-markdown')!r}))",
    # IPython puts width into the output's metadata; nbconvert writes it unquoted into <img>.
    "out-image-size": lambda b: "display(Image(data=b'not a png', format='png', width={!r}))"
                                .format(f"1 onerror={js('out-image-size')}"),
    "out-javascript": lambda b: f"display(Javascript({js('out-javascript')!r}))",
    "out-widget": lambda b: ("display({'application/vnd.jupyter.widget-view+json': "
                             "{'model_id': 'x', 'version_major': 2, 'version_minor': 0}, "
                             "'text/html': '<b>w</b>'}, raw=True)"),
    "out-stream": lambda b: f"print({_img('out-stream')!r})",
    "out-error": lambda b: f"raise ValueError({_img('out-error')!r})",
}
LIVE_OUTPUT = {"out-html": BOTH, "out-html-script": BOTH, "out-html-svg": BOTH,
               "out-svg": frozenset(), "out-markdown": BOTH, "out-image-size": BOTH,
               "out-javascript": frozenset({FORMGRADER}), "out-widget": frozenset(),
               "out-stream": frozenset(), "out-error": frozenset()}

# The second attacker: attachments and a hostile file name. The rebuild on the release keeps only
# the sources of a student's cells, so the attachments never reach autograded/ (the cleaning
# handles them all the same: tests/test_html_clean.py); the page must still render.
ATTACHMENT_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="5" height="5" onload="{a}">'
                  "<script>{b}</script></svg>")
FILE_NAME = f'<img src=x onerror="{js("file-name")}">'
UNREADABLE_NAME = f'<img src=x onerror="{js("unreadable-name")}">'
GRADE_ID = f'<img src=x onerror="{js("grade-id")}">'


def catalogue() -> list[Payload]:
    out = [Payload(pid, "markdown", BOTH if pid in LIVE_MARKDOWN else frozenset())
           for pid in MARKDOWN]
    out += [Payload(pid, "output", LIVE_OUTPUT[pid]) for pid in OUTPUT_CODE]
    out += [Payload("attachment", "cell attachment", frozenset()),
            Payload("file-name", "file name", frozenset()),
            Payload("unreadable-name", "file name of an unreadable file", frozenset()),
            Payload("grade-id", "grade id (cell metadata)", frozenset())]
    return out


IMPORTS = "from IPython.display import HTML, SVG, Image, Javascript, Markdown, display\n"


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def attacker_notebook(release, answers: dict[str, str], beacon: str):
    """The release with correct answers, a markdown cell per markdown payload and a code cell per
    output payload, added after the first answer (the error last: it stops nothing but itself)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell

    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if _grade_id(cell) in answers:
            cell.source = answers[_grade_id(cell)]
    at = 1 + next(i for i, c in enumerate(nb.cells) if _grade_id(c) in answers)
    added = [new_markdown_cell(f"Payload {pid}:\n\n{make(beacon)}")
             for pid, make in MARKDOWN.items()]
    added.append(new_code_cell(IMPORTS + "\n".join(
        make(beacon) for pid, make in OUTPUT_CODE.items() if pid != "out-error")))
    added.append(new_code_cell("named = 1", metadata={"nbgrader": {"grade_id": GRADE_ID}}))
    added.append(new_code_cell(OUTPUT_CODE["out-error"](beacon)))
    nb.cells[at:at] = added
    nbformat.validate(nb)
    return nb


def attachment_notebook(release, answers: dict[str, str]):
    """Correct answers and a markdown cell showing two hostile attachments (SVG, HTML)."""
    from nbformat.v4 import new_markdown_cell

    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if _grade_id(cell) in answers:
            cell.source = answers[_grade_id(cell)]
    cell = new_markdown_cell("Attached: ![svg](attachment:evil.svg) ![page](attachment:evil.html)")
    svg = ATTACHMENT_SVG.format(a=js("attachment"), b=js("attachment"))
    page = f"<script>{js('attachment')}</script>"
    cell.attachments = {
        "evil.svg": {"image/svg+xml": base64.b64encode(svg.encode()).decode()},
        "evil.html": {"text/html": base64.b64encode(page.encode()).decode()}}
    nb.cells.insert(1, cell)
    return nb
