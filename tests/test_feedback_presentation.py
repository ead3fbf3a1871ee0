"""What a student reads in feedback: error messages first and wrapped, equations as MathML.

Each step on its own (autograder/preprocessors/readable_errors.py, latex_mathml.py,
feedback_style.py), on tracebacks that IPython itself formats for real failing cells;
tests/test_feedback_browser.py looks at a whole feedback page in Chromium.
"""

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from nbconvert.filters import markdown2html, strip_ansi
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.preprocessors.feedback_style import FEEDBACK_CSS, FeedbackStyle
from autograder.preprocessors.latex_mathml import RenderLatexAsMathML, render_math
from autograder.preprocessors.readable_errors import (
    WHERE,
    ReadableErrors,
    default_hidden_roots,
    readable_traceback,
)


@pytest.fixture(scope="module")
def errors():
    """Runs cells in a real IPython shell; returns {name: (ename, evalue, traceback)}."""
    shell = InteractiveShell.instance(colors="linux")
    caught = []
    shell._showtraceback = lambda etype, evalue, stb: caught.append(
        (etype.__name__, str(evalue), stb))
    cells = {
        "setup": "import numpy as np\nfrom rnn_course_student.checks import assert_close",
        "answer": "def rnn_step(x, W):\n    return np.tanh(x @ W)",
        "failing_check": "assert_close(rnn_step(np.ones((2, 3)), np.ones((3, 4))), "
                         "np.zeros((2, 4)), name='h_t', hint='tanh is applied once')",
        "inside_numpy": "rnn_step(np.ones((2, 3)), np.ones((4, 4)))",
        "syntax": "def f(:\n    pass",
        "grader_path": "import tempfile, os\n"
                       "open(os.path.join(tempfile.gettempdir(), 'rnn-grade-x', 'data.csv'))",
    }
    out = {}
    for name, source in cells.items():
        before = len(caught)
        shell.run_cell(source, store_history=True)
        if len(caught) > before:
            out[name] = caught[-1]
    shell.reset()
    return out


def plain(lines):
    return [strip_ansi(line) for line in lines]


def test_a_failing_check_reads_message_first_without_the_helpers_frames(errors):
    ename, evalue, traceback = errors["failing_check"]
    assert any("checks.py" in strip_ansi(entry) for entry in traceback)  # IPython's has it

    lines = plain(readable_traceback(ename, evalue, traceback))

    assert lines[0] == f"AssertionError: {evalue}"
    assert lines[0].startswith("AssertionError: h_t does not match")
    text = "\n".join(lines)
    assert "checks.py" not in text and "assert_close(actual" not in text
    assert "Traceback (most recent call last)" not in text and "-----" not in text
    assert WHERE in lines and "Cell In[" in text  # the test cell's own frame stays
    assert lines[-1] == "(1 frame in the course's checking code and libraries not shown)"
    assert text.count(evalue) == 1


def test_an_error_inside_numpy_keeps_every_frame_of_the_students_code(errors):
    ename, evalue, traceback = errors["inside_numpy"]
    lines = plain(readable_traceback(ename, evalue, traceback))
    assert lines[0].startswith("ValueError: matmul")
    text = "\n".join(lines)
    assert "in rnn_step" in text and "return np.tanh(x @ W)" in text  # the student's frame
    assert "not shown" not in text  # NumPy raised from C: no library frame to leave out


def test_a_syntax_error_keeps_its_caret_and_loses_the_temporary_file_name(errors):
    ename, evalue, traceback = errors["syntax"]
    lines = plain(readable_traceback(ename, evalue, traceback))
    assert lines[0] == "SyntaxError: invalid syntax (line 1)"
    assert "^" in "\n".join(lines)


def test_grader_paths_in_a_message_are_cut_to_their_last_part(errors):
    ename, evalue, traceback = errors["grader_path"]
    assert "rnn-grade-x" in evalue
    first = plain(readable_traceback(ename, evalue, traceback))[0]
    assert first == "FileNotFoundError: [Errno 2] No such file or directory: '.../data.csv'"
    other = readable_traceback("OSError", "cannot read /home/student/data.csv", [],
                               hidden_roots=["/tmp"])
    assert plain(other)[0] == "OSError: cannot read /home/student/data.csv"  # not the grader's


def test_the_default_hidden_roots_cover_the_course_packages_and_python():
    import rnn_course_student

    roots = default_hidden_roots()
    assert any(rnn_course_student.__file__.startswith(root + "/") for root in roots)
    assert any(nbformat.__file__.startswith(root + "/") for root in roots)


def test_the_preprocessor_rewrites_error_outputs_only(errors):
    ename, evalue, traceback = errors["failing_check"]
    nb = new_notebook(cells=[new_code_cell("x", outputs=[
        new_output("stream", name="stdout", text="File /tmp/x.py: printed by the student\n"),
        new_output("error", ename=ename, evalue=evalue, traceback=traceback),
    ])])
    nb, _ = ReadableErrors().preprocess(nb, {})
    stream, error = nb.cells[0].outputs
    assert stream.text == "File /tmp/x.py: printed by the student\n"
    assert strip_ansi(error.traceback[0]) == f"AssertionError: {evalue}"
    assert error.evalue == evalue


# --- equations ---


def test_inline_and_display_math_become_mathml():
    out = render_math(r"The step $h_t = \tanh(z_t)$ and $$\frac{\partial h_t}{\partial z_t}$$")
    assert out.count("<math") == 2 and 'display="block"' in out and "$" not in out
    env = render_math(r"\begin{equation} a = b \end{equation} and \(x^2\), \[y\]")
    assert env.count("<math") == 3 and "\\begin" not in env


def test_code_and_prices_are_not_math():
    source = "Costs $5 and $10; `np.sum($x$)`\n```\ny = $z$\n```\n"
    assert render_math(source) == source


def test_unreadable_tex_stays_as_code_and_is_reported():
    failures = []
    out = render_math(r"bad $\left( x$ and good $b$", failures)
    assert failures == [r"\left( x"]
    assert r"``$\left( x$``" in out  # shown as code, as typed
    assert out.count("<math") == 1  # the good one still rendered


def test_mathml_survives_the_markdown_converter_intact():
    html = markdown2html(render_math(r"Here $a * b * c_1$ and $x_{t-1}$ **bold**"))
    assert html.count("<math") == 2 and "<em>" not in html and "$" not in html
    assert "<strong>bold</strong>" in html


def test_the_preprocessor_touches_markdown_cells_only():
    nb = new_notebook(cells=[new_markdown_cell("$x$"), new_code_cell("s = '$x$'")])
    nb, _ = RenderLatexAsMathML().preprocess(nb, {})
    assert "<math" in nb.cells[0].source and nb.cells[1].source == "s = '$x$'"


def test_the_style_is_added_after_the_stylesheets_already_inlined():
    _, resources = FeedbackStyle().preprocess(new_notebook(), {"inlining": {"css": ["p {}"]}})
    assert resources["inlining"]["css"] == ["p {}", FEEDBACK_CSS]
    assert "pre-wrap" in FEEDBACK_CSS
