"""ScrubHiddenTracebacks on its own: feedback keeps the student's frames, never a hidden line."""

from nbformat.v4 import new_output

from autograder.preprocessors.scrub import (
    HIDDEN_FRAME,
    HIDDEN_MESSAGE,
    HIDDEN_OUTPUT,
    UNSCRUBBED_FOR_TESTING,
    ScrubHiddenTracebacks,
)
from nbgrader_notebooks import HIDDEN, by_id, release, resources

SECRET = "assert_allclose(square(np.array([-3.0])), [9.0], err_msg='hidden: negatives')"
RED = "\x1b[0;31m"


def graded(outputs):
    nb = release()
    test = by_id(nb)["square_values"]
    test.source += "\n" + HIDDEN
    test.outputs = outputs
    return nb


def scrub(nb, student="student"):
    # nbgrader's converters name the student in resources["nbgrader"]
    nb, _ = ScrubHiddenTracebacks().preprocess(nb, resources(nbgrader={"student": student}))
    return by_id(nb)["square_values"].outputs


def test_frames_quoting_a_hidden_line_go_and_the_students_frames_stay():
    frames = ["AssertionError   Traceback (most recent call last)",
              f"Cell In[3], line 4\n      2 visible()\n{RED}----> 4 {SECRET}\n      5 more",
              "Cell In[2], line 2, in square(x)\n----> 2     return x"]
    [out] = scrub(graded([new_output("error", ename="AssertionError", evalue="Not equal",
                                     traceback=frames)]))
    text = "\n".join(out.traceback)
    assert SECRET not in text and "err_msg" not in text
    assert HIDDEN_FRAME in text
    assert "in square(x)" in text and "return x" in text and "visible()" in text


def test_a_message_or_a_stream_quoting_a_hidden_line_is_replaced_whole():
    outs = scrub(graded([
        new_output("stream", name="stdout", text=f"I read: {SECRET}\n"),
        new_output("error", ename="AssertionError", evalue=f"failed: {SECRET}", traceback=[]),
    ]))
    assert outs[0].text == HIDDEN_OUTPUT and outs[1].evalue == HIDDEN_MESSAGE


def test_outputs_without_hidden_lines_are_left_alone():
    out = new_output("error", ename="NotImplementedError", evalue="", traceback=["x", "y"])
    assert scrub(graded([out]))[0].traceback == ["x", "y"]


def test_the_test_only_switch_leaves_only_the_named_students_unscrubbed(monkeypatch):
    # The negative control of the graded attack batch (tests/test_sandbox_attacks.py) uses it.
    monkeypatch.setenv(UNSCRUBBED_FOR_TESTING, "control,other")
    def leak():
        return graded([new_output("stream", name="stdout", text=f"I read: {SECRET}\n")])

    assert scrub(leak(), student="control")[0].text == f"I read: {SECRET}\n"
    assert scrub(leak(), student="student")[0].text == HIDDEN_OUTPUT
