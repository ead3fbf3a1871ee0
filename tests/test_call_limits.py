"""The catalogue's `check` with an earlier function that never returns: the calls that only decide
whom to blame are limited (course_checks.call_limits), so a right later function passes with the
note naming the earlier one, and the check ends within about two limits; without the limit
(the negative control) the check does not end at all."""

import signal
import time

import numpy as np
import pytest

from course_checks import call_limits
from course_checks.call_limits import CallTookTooLong, within
from course_checks.mistakes import check, rnn1

LIMIT_S = 1.0
HANGING_STEP = """
def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    try:
        while True:
            pass
    except Exception:  # a student's broad except does not swallow the limit
        return None

def rnn_forward(x, h0, W_x, W_h, b):
    h, h_prev = np.zeros((x.shape[0], x.shape[1], h0.shape[1])), h0
    for t in range(x.shape[1]):
        h_prev = rnn_step_forward(x[:, t], h_prev, W_x, W_h, b)
        h[:, t] = h_prev
    return h, None
"""


@pytest.fixture
def notebook(monkeypatch):
    monkeypatch.setattr(call_limits, "EARLIER_TIME_LIMIT_S", LIMIT_S)
    namespace = {"np": np}
    exec(HANGING_STEP, namespace)
    return namespace


def test_a_limited_call_stops_at_its_limit_and_later_calls_fail_at_once(notebook):
    limited = within(notebook["rnn_step_forward"], LIMIT_S)
    started = time.monotonic()
    with pytest.raises(CallTookTooLong, match="did not return within 1 s"):
        limited(np.ones((1, 1)), np.ones((1, 1)), np.ones((1, 1)), np.ones((1, 1)), np.ones(1))
    first = time.monotonic() - started
    with pytest.raises(CallTookTooLong):
        limited()
    assert LIMIT_S <= first < LIMIT_S + 2 and time.monotonic() - started < first + 0.5


def test_a_right_loop_keeps_its_points_when_its_step_hangs(notebook, capsys):
    started = time.monotonic()
    check(rnn1.RNN_FORWARD, notebook["rnn_forward"])  # passes: the points are kept
    assert time.monotonic() - started < 2 * LIMIT_S + 20
    assert "rnn_forward is right, but it calls your rnn_step_forward" in capsys.readouterr().out


class _Stuck(BaseException):
    pass


def test_without_the_limit_the_check_never_ends(notebook, monkeypatch):
    monkeypatch.setattr(call_limits, "within", lambda function, seconds: function)

    def stuck(signum, frame):
        raise _Stuck()

    previous = signal.signal(signal.SIGALRM, stuck)
    signal.setitimer(signal.ITIMER_REAL, 10 * LIMIT_S)
    try:
        with pytest.raises(_Stuck):
            check(rnn1.RNN_FORWARD, notebook["rnn_forward"])
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
