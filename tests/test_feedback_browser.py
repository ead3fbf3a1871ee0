"""A real feedback page in a real browser: the failing check's message is readable, equations drawn.

A copy of the tiny fixture course gets a markdown cell of LaTeX and a test cell that checks with
the course's own helper (rnn_course_student.checks.assert_close); a wrong submission is graded
and its feedback written by `rnn-grade autograde --feedback`, as an instructor would. The page is
opened in headless Chromium from the system's package manager (Debian: `chromium`,
`chromium-driver`), driven by Selenium pointed at those executables (nothing is downloaded), with
every host name but 127.0.0.1 unresolvable: the page must work offline.

Without the browser this file skips, saying what to install (under CI that fails the run:
tests/conftest.py).
"""

import copy
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

from autograder.cli import main
from autograder.course.folder import Course

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "tiny_course"
LIMIT_ARGS = ["--timeout", "20", "--setup-timeout", "60", "--memory-mb", "500"]
WIDTH, HEIGHT = 900, 1000  # a laptop browser window, narrower than the longest message line

EQUATIONS = (r"The square of each entry is $y_i = x_i^2$, and the sum of squares is a norm:"
             "\n$$\\sum_{i=1}^{n} y_i = \\lVert x \\rVert_2^2 .$$\n"
             r"For $x \in \mathbb{R}^n$ it is never negative.")
CHECK = ('"""square returns x**2 element-wise."""\n'
         "assert_close(square(np.array([1.0, 2.0, 3.0])), np.array([1.0, 4.0, 9.0]), "
         "name='square(x)', hint='each entry is multiplied by itself, not by two: "
         "look again at the exponent in the equation above')\n")
WRONG_SQUARE = "def square(x):\n    return np.asarray(x) * 2\n"

pytestmark = pytest.mark.slow


def _missing_browser():
    """Why the browser cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install {package})"
    return None


def _require_browser():
    """Skips when the browser cannot run, saying what to install."""
    reason = _missing_browser()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through Selenium, offline, with a fresh profile."""
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="rnn-feedback-chromium-")
    options = Options()
    options.binary_location = CHROMIUM  # never Selenium Manager's download
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}",
                 # Offline: any host name but 127.0.0.1 fails to resolve.
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _course_with_equations_and_a_helper_check(root: Path) -> Course:
    """The tiny course, whose first exercise has equations and is checked by assert_close."""
    shutil.copytree(FIXTURE_COURSE, root)
    course = Course(str(root))
    path = course.source_path("tiny1")
    nb = nbformat.read(path, as_version=4)
    ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells]
    nb.cells[ids.index("setup_imports")].source += (
        "\nfrom rnn_course_student.checks import assert_close")
    test = nb.cells[ids.index("square_values")]
    test.source = CHECK + test.source[test.source.index("### BEGIN HIDDEN TESTS"):]
    nb.cells.insert(ids.index("square"), new_markdown_cell(EQUATIONS))
    nbformat.write(nb, path)
    return course


@pytest.fixture(scope="module")
def wrong_submission(tmp_path_factory):
    """(course, path of a submission whose `square` doubles instead of squaring)."""
    root = tmp_path_factory.mktemp("feedback-browser")
    course = _course_with_equations_and_a_helper_check(root / "course")
    assert main(["--course", course.root, "release"]) == 0
    submission = copy.deepcopy(course.release_notebook("tiny1"))
    answers = {"square": WRONG_SQUARE, "add": "def add(a, b):\n    return a + b\n"}
    for cell in submission.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    (root / "class").mkdir()
    path = root / "class" / "wrong_tiny1.ipynb"
    nbformat.write(submission, path)
    return course, path


@pytest.fixture(scope="module")
def feedback_page(wrong_submission):
    """The feedback page of the wrong submission, written by rnn-grade autograde --feedback."""
    course, path = wrong_submission
    assert main(["--course", course.root, "autograde", str(path.parent), "--feedback",
                 "--jobs", "1", "--no-progress", *LIMIT_ARGS]) == 0
    page = Path(course.feedback_path("wrong", "tiny1"))
    assert page.exists()
    return page


def _open(browser, page: Path):
    browser.get(page.as_uri())
    return browser.execute_script("return document.readyState") == "complete"


MESSAGE_BOXES = """
return [...document.querySelectorAll('div.output_error pre')].map(pre => {
  const r = pre.getBoundingClientRect();
  return {text: pre.innerText, left: r.left, right: r.right, top: r.top,
          scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth};
});"""


def test_the_failing_message_comes_first_and_fits_the_window(browser, feedback_page):
    assert _open(browser, feedback_page)
    page_width = browser.execute_script(
        "const d = document.documentElement; return [d.scrollWidth, d.clientWidth]")
    assert page_width[0] <= page_width[1], f"the page scrolls sideways: {page_width}"

    boxes = browser.execute_script(MESSAGE_BOXES)
    assert len(boxes) == 1, [b["text"][:80] for b in boxes]
    box = boxes[0]
    first_line = box["text"].splitlines()[0]
    assert first_line.startswith("AssertionError: square(x) does not match")
    assert "look again at the exponent" in box["text"].split("\n\n")[0]  # wrapped, not cut
    assert 0 <= box["left"] and box["right"] <= WIDTH, box
    assert box["scrollWidth"] <= box["clientWidth"], "the message box scrolls sideways"
    # The course's helper and the grading machine stay out of it; the student's line stays in.
    assert "checks.py" not in box["text"] and "assert_close(actual" not in box["text"]
    assert tempfile.gettempdir() + "/" not in box["text"]
    assert "Cell In[" in box["text"]
    browser.execute_script("document.querySelector('div.output_error').scrollIntoView()")
    browser.save_screenshot(str(feedback_page.with_suffix(".png")))  # to look at by hand


def test_the_equations_are_drawn_without_a_network(browser, feedback_page):
    assert _open(browser, feedback_page)
    scripts = browser.execute_script(
        "return [...document.scripts].map(s => s.src).filter(s => s)")
    assert not [s for s in scripts if not s.startswith("file:")], scripts  # nothing to fetch
    equations = browser.execute_script("""
        return [...document.querySelectorAll('math')].map(m => {
          const r = m.getBoundingClientRect();
          return {display: getComputedStyle(m).display, width: r.width, height: r.height,
                  block: m.getAttribute('display') === 'block'};
        });""")
    assert len(equations) == 3 and sum(e["block"] for e in equations) == 1, equations
    assert all(e["width"] > 10 and e["height"] > 5 for e in equations), equations
    assert all("math" in e["display"] for e in equations), equations  # MathML layout, not text
    text = browser.execute_script("return document.body.innerText")
    assert not re.search(r"\$[^$\s][^$]*\$|\\lVert|\\sum|\\mathbb", text), "raw TeX on the page"


def test_a_missing_browser_skips_saying_what_to_install(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        _require_browser()
