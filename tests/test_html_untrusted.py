"""No payload a student hands in runs in any page made from their notebook: feedback, the similarity
report, nbgrader's formgrader. Real grading, real pages, real headless Chromium.

One batch is graded: an ordinary submission (a PNG and an SVG plot, equations, a table), an
attacker carrying the catalogue of tests/html_payloads.py, a second attacker with hostile cell
attachments and a hostile file name, and a copy of the first attacker graded with the cleaning
step switched off (the negative control). Every page is opened in Chromium with a beacon server
on 127.0.0.1 that counts what payloads load; ``window.__pwned`` collects what scripts ran.
The formgrader is nbgrader's own: ``jupyter server`` with its extension, token login.
"""

import contextlib
import copy
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory

import html_payloads as P
from autograder.cli import main
from autograder.course.folder import Course
from autograder.feedback import pages as feedback_pages
from autograder.preprocessors import clean_html
from autograder.results import Result
from autograder.similarity import report as similarity_report
from test_feedback_browser import FIXTURE_COURSE, LIMIT_ARGS, browser  # noqa: F401

pytestmark = pytest.mark.slow

ANSWERS = {"square": "def square(x):\n    return np.asarray(x) ** 2\n",
           "add": "def add(a, b):\n    return a + b\n"}
UNCLEANED = "uncleaned-attacker"  # graded with the cleaning step off: the negative control
EQUATIONS = "The loss is $L = \\sum_i (y_i - \\hat y_i)^2$:\n$$\\lVert x \\rVert_2^2 = x^T x$$"
TABLE = "| step | loss |\n|---|---|\n| 1 | 0.5 |\n| 2 | 0.25 |"
PLOTS = """import io
import matplotlib
matplotlib.use('module://matplotlib_inline.backend_inline')
import matplotlib.pyplot as plt
from IPython.display import SVG, display
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([1, 2, 3], [3, 1, 2])
ax.set_title('loss < 1 & falling')
buffer = io.StringIO()
fig.savefig(buffer, format='svg')
display(SVG(buffer.getvalue()))
plt.show()
"""


class Beacon:
    """An HTTP server on 127.0.0.1 that records every path requested of it."""

    def __init__(self):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def beacon():
    server = Beacon()
    yield server
    server.close()


def _answered(release, extra_cells=()):
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in ANSWERS:
            cell.source = ANSWERS[gid]
    nb.cells[1:1] = list(extra_cells)
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory, beacon):
    """The course after one batch: (course, results by student, the grade table's text)."""
    root = tmp_path_factory.mktemp("html-untrusted")
    shutil.copytree(FIXTURE_COURSE, root / "course")
    course = Course(str(root / "course"))
    assert main(["--course", course.root, "release"]) == 0
    release = course.release_notebook("tiny1")
    submissions = root / "class"
    submissions.mkdir()
    ordinary = _answered(release, [new_markdown_cell(EQUATIONS), new_markdown_cell(TABLE),
                                   new_code_cell(PLOTS)])
    nbformat.write(ordinary, submissions / "ordinary_tiny1.ipynb")
    attacker = P.attacker_notebook(release, ANSWERS, beacon.url)
    nbformat.write(attacker, submissions / "attacker_tiny1.ipynb")
    nbformat.write(attacker, submissions / f"{UNCLEANED}_tiny1.ipynb")
    (submissions / "mallory" / "tiny1").mkdir(parents=True)
    nbformat.write(P.attachment_notebook(release, ANSWERS),
                   submissions / "mallory" / "tiny1" / f"{P.FILE_NAME}.ipynb")
    (submissions / "eve" / "tiny1").mkdir(parents=True)
    (submissions / "eve" / "tiny1" / f"{P.UNREADABLE_NAME}.ipynb").write_text("<html>{")

    table = io.StringIO()
    # The grading workers inherit the environment: the control's copy is graded uncleaned.
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(table):
        mp.setenv(clean_html.UNCLEANED_FOR_TESTING, UNCLEANED)
        code = main(["--course", course.root, "autograde", str(submissions), "--jobs", "2",
                     "--no-progress", *LIMIT_ARGS])
    assert code == 0, table.getvalue()
    with open(os.path.join(course.root, "autograder-results.json")) as f:
        results = {r["student"]: r for r in json.load(f)}
    assert set(results) == {"ordinary", "attacker", UNCLEANED, "mallory", "eve"}, results
    return course, results, table.getvalue()


def _without_page_defences(course, student, keep: Path) -> Path:
    """The student's feedback page built with the page's own cleaning and CSP switched off."""
    config = course.config
    config.CourseFeedback.clean_pages = False
    app = feedback_pages.CourseFeedback(coursedir=CourseDirectory(config=config), config=config)
    app.coursedir.assignment_id, app.coursedir.student_id = "tiny1", student
    app.force = True
    app.start()
    page = course.feedback_path(student, "tiny1")
    return Path(shutil.copy(page, keep / f"{student}-bare.html"))


@pytest.fixture(scope="module")
def pages(graded, tmp_path_factory):
    """Feedback pages: every student's as rnn-grade writes them, and two built without the page's
    defences (the attacker cleaned at grading, and the uncleaned copy)."""
    course, results, _ = graded
    keep = tmp_path_factory.mktemp("pages")  # nbgrader empties a student's folder to rewrite it
    written = feedback_pages.write_feedback(course,
                                            [Result.from_dict(r) for r in results.values()])
    built = {}
    for student, path in zip(results, written, strict=True):
        built[student] = Path(shutil.copy(path, keep / f"{student}.html"))
    assert "failed-to-grade" in built["eve"].read_text()  # the page written without nbgrader
    built["attacker-bare"] = _without_page_defences(course, "attacker", keep)
    built[f"{UNCLEANED}-bare"] = _without_page_defences(course, UNCLEANED, keep)
    return built


TRACES = """
const found = [];
for (const el of document.querySelectorAll('*')) {
  for (const a of el.attributes) {
    if (a.value.includes('__pwned') || a.value.includes(arguments[0])) found.push(a.value);
  }
  if (el.tagName === 'SCRIPT' && el.textContent.includes('__pwned')) found.push(el.textContent);
}
return found;"""


def visit(driver, url: str, beacon, traces: bool = True) -> set[str]:
    """The payload ids with any trace in the page at ``url``: ran (window.__pwned), loaded
    something from the beacon, or (``traces``) left an attribute or script carrying one."""
    del beacon.hits[:]
    driver.get(url)
    for _ in range(50):
        if driver.execute_script("return document.readyState") == "complete":
            break
        time.sleep(0.1)
    # The page itself, not the browser's error page (which no payload could set anything in).
    opened = driver.execute_script("return [document.querySelectorAll('body *').length, "
                                   "document.body.innerText.slice(0, 300)]")
    assert opened[0] > 5 and "ERR_" not in opened[1], (url, opened)
    # A click on every javascript: link, one at a time (a second javascript: navigation cancels
    # one still pending). Webdriver's own script is exempt from the page's CSP; the link's is not.
    links = driver.execute_script(
        "return document.querySelectorAll('a[href^=\"javascript:\" i]').length")
    for i in range(links):
        driver.execute_script(
            "document.querySelectorAll('a[href^=\"javascript:\" i]')[arguments[0]].click()", i)
        time.sleep(0.2)
    if links:
        time.sleep(1)  # a javascript: navigation runs as a task of its own, later
    ran = driver.execute_script("return window.__pwned || []")
    left = driver.execute_script(TRACES, beacon.url) if traces else []
    if driver.execute_script("return !!document.querySelector('meta[http-equiv=refresh i]')"):
        time.sleep(2.5)  # it fires after 2 s
    ids = {p.pid for p in P.catalogue()}
    found = set(ran) | {h.strip("/").split("/")[0] for h in beacon.hits}
    found |= {pid for pid in ids for t in left if pid in t}
    return found - {"favicon.ico"}  # what a page the meta refresh opened asks for


def _live(page: str) -> set[str]:
    return {p.pid for p in P.catalogue() if page in p.live_in}


def test_the_catalogue_covers_every_place_a_payload_can_hide():
    kinds = {p.where for p in P.catalogue()}
    assert len(P.catalogue()) >= 15
    assert {"markdown", "output", "cell attachment", "file name"} <= kinds
    code = "\n".join(make("http://b") for make in P.OUTPUT_CODE.values())
    for shown in ("HTML(", "SVG(", "Markdown(", "Javascript(", "widget-view", "print(", "raise"):
        assert shown in code


def test_removed_content_is_flagged_not_penalised(graded):
    course, results, table = graded
    attacker, ordinary = results["attacker"], results["ordinary"]
    reasons = "; ".join(attacker["reasons"])
    assert attacker["status"] == "flagged" and "active HTML removed" in reasons, reasons
    assert "<script>" in reasons and "application/javascript output" in reasons, reasons
    assert attacker["score"] == attacker["max_score"] == ordinary["score"] == ordinary["max_score"]
    # Plots, tables and equations are not active content (matplotlib may trip the sandbox).
    assert not any("active HTML" in r for r in ordinary["reasons"]), ordinary["reasons"]
    assert not any("active HTML" in r for r in results[UNCLEANED]["reasons"])  # the control
    line = next(x for x in table.splitlines() if x.startswith("attacker / tiny1: flagged: "))
    assert "active HTML removed" in line


def test_no_feedback_page_runs_a_payload(browser, pages, beacon):  # noqa: F811
    for student in ("attacker", "mallory", "eve", "ordinary", UNCLEANED):
        assert visit(browser, pages[student].as_uri(), beacon) == set(), student
        if student in ("attacker", "mallory", "eve"):  # the verdict quotes a hostile name: as text
            text = browser.execute_script("return document.body.innerText")
            assert '<img src=x onerror="(window.__pwned' in text, student


def test_cleaning_at_grading_alone_protects_a_page_without_its_own_defences(
        browser, pages, beacon):  # noqa: F811
    assert visit(browser, pages["attacker-bare"].as_uri(), beacon) == set()


def test_negative_control_without_any_cleaning_the_payloads_run(
        browser, pages, beacon):  # noqa: F811
    found = visit(browser, pages[f"{UNCLEANED}-bare"].as_uri(), beacon)
    assert _live(P.FEEDBACK) <= found, sorted(_live(P.FEEDBACK) - found)


@pytest.mark.parametrize("policy", [feedback_pages.CSP, similarity_report.CSP])
def test_each_pages_policy_alone_stops_every_script_and_load(
        browser, beacon, tmp_path, policy):  # noqa: F811
    """The CSP in front of raw payloads (no cleaning at all); without it they run. A meta
    refresh is a navigation, which no CSP governs: only the cleaning removes it."""
    # The raw-HTML payloads (markdown syntax is not rendered in a plain page).
    raw = {pid: make(beacon.url) for pid, make in P.MARKDOWN.items()
           if "<" in make("") and "```" not in make("") and pid != "md-meta-refresh"}
    body = "\n".join(raw.values())
    page = "<!DOCTYPE html><html><head>{}<meta charset='utf-8'></head><body>{}</body></html>"
    guarded, bare = tmp_path / "guarded.html", tmp_path / "bare.html"
    guarded.write_text(page.format(f'<meta http-equiv="Content-Security-Policy" '
                                   f'content="{policy}">', body))
    bare.write_text(page.format("", body))
    live = _live(P.FEEDBACK) & set(raw) - {"md-form"}  # a form only waits to be sent
    found = visit(browser, bare.as_uri(), beacon, traces=False)
    assert live <= found, sorted(live - found)
    assert visit(browser, guarded.as_uri(), beacon, traces=False) == set()


def test_the_ordinary_page_still_shows_its_plots_equations_and_table(browser, pages):  # noqa: F811
    browser.get(pages["ordinary"].as_uri())
    images = browser.execute_script("""
        return [...document.querySelectorAll('img')].map(i => ({
          src: i.src.split(';')[0], width: i.naturalWidth, height: i.naturalHeight}));""")
    kinds = {i["src"] for i in images if i["width"] > 50 and i["height"] > 50}
    assert {"data:image/png", "data:image/svg+xml"} <= kinds, images  # drawn, not broken
    equations = browser.execute_script("""
        return [...document.querySelectorAll('math')].map(m => m.getBoundingClientRect().width)""")
    assert len(equations) >= 2 and all(w > 10 for w in equations), equations
    cells = browser.execute_script(
        "return [...document.querySelectorAll('td')].map(t => t.innerText)")
    assert "0.25" in cells


def test_the_similarity_report_runs_nothing(browser, graded, beacon):  # noqa: F811
    course, _, _ = graded
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--course", course.root, "similarity", "tiny1"]) == 0
    report = Path(course.root) / "similarity" / "similarity-tiny1.html"
    text = report.read_text()
    assert "Content-Security-Policy" in text and "onerror" in text  # the code is shown, escaped
    assert visit(browser, report.as_uri(), beacon) == set()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def formgrader(graded):
    """nbgrader's formgrader on a real ``jupyter server`` (127.0.0.1, token): its base URL."""
    course, _, _ = graded
    port, token = _free_port(), "html-untrusted-token"
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={course.root}", "--allow-root"],
        cwd=course.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(Path(course.root).parent / "runtime")})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            if server.poll() is not None:
                pytest.fail(f"jupyter server exited: {server.stderr.read().decode()[-2000:]}")
            time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)


def _submission_url(course, formgrader, student: str) -> str:
    base, token = formgrader
    with Gradebook(course.db_url) as gb:
        sid = gb.find_submission_notebook("tiny1", "tiny1", student).id
    return f"{base}/formgrader/submissions/{sid}/?token={token}"


def test_the_formgrader_runs_no_payload_of_a_graded_notebook(
        browser, graded, formgrader, beacon):  # noqa: F811
    course, _, _ = graded
    for student in ("attacker", "mallory"):
        assert visit(browser, _submission_url(course, formgrader, student), beacon) == set()
        # The page is nbgrader's real view, whose own scripts run (so a payload would have).
        assert browser.execute_script("return typeof window.jQuery") == "function"
        assert browser.find_elements("css selector", "input.score"), student


def test_negative_control_the_formgrader_runs_an_uncleaned_notebook(
        browser, graded, formgrader, beacon):  # noqa: F811
    course, _, _ = graded
    found = visit(browser, _submission_url(course, formgrader, UNCLEANED), beacon)
    assert _live(P.FORMGRADER) <= found, sorted(_live(P.FORMGRADER) - found)


def test_the_formgrader_still_shows_the_ordinary_plot(browser, graded, formgrader):  # noqa: F811
    course, _, _ = graded
    browser.get(_submission_url(course, formgrader, "ordinary"))
    sizes = browser.execute_script("""
        return [...document.querySelectorAll('img')].map(i => [i.naturalWidth, i.naturalHeight])""")
    assert sum(1 for w, h in sizes if w > 50 and h > 50) >= 2, sizes
