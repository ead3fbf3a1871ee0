"""The judge's channel: plain data both ways (arrays of every numeric dtype, nested containers),
never pickle, never an object, a size cap, and a real kernel answering calls: results, the
student's exceptions, the forbidden-call guard, stand-ins, and a hang that costs one call."""

import base64
import io
import json
import time

import numpy as np
import pytest
from jupyter_client.manager import start_new_kernel

from autograder.judge import CallTimeout, Channel
from autograder.judge.channel import Unconvertible
from autograder.judge.kernel import blocking_send
from autograder.judge.proxies import FunctionProxy
from course_checks.call_limits import within
from rnn_course_student import probe
from rnn_course_student.forbidden import ForbiddenCallError, forbid, remote_only

DTYPES = ["float16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool",
          "complex64"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_arrays_of_every_numeric_dtype_come_back_equal_in_dtype_and_shape(dtype):
    for shape in [(), (0,), (3,), (2, 3, 4)]:
        array = np.array(np.arange(int(np.prod(shape))).reshape(shape) % 3, dtype=dtype)
        back = probe.decode(probe.encode(array))
        assert type(back) is np.ndarray and back.dtype == array.dtype and back.shape == shape
        assert np.array_equal(back, array)


def test_nested_containers_scalars_and_non_finite_numbers_come_back_as_they_were():
    value = (None, True, 3, -2.5, float("nan"), float("inf"), "text",
             [np.float32(1.5), np.int64(7), (1, [2, {"k": (3,)}])],
             {"a": np.ones(2), 4: None, (1, 2): "pair"})
    back = probe.decode(probe.encode(value))
    assert back[:4] == value[:4] and np.isnan(back[4]) and back[5] == float("inf")
    assert type(back[7][0]) is np.float32 and type(back[7][1]) is np.int64
    assert back[7][2] == (1, [2, {"k": (3,)}]) and type(back[7][2]) is tuple
    assert set(back[8]) == {"a", 4, (1, 2)} and np.array_equal(back[8]["a"], np.ones(2))


@pytest.mark.parametrize("thing", [object(), np.array([{"x": 1}], dtype=object), {1, 2},
                                   np.array(["a"]), b"bytes", lambda: 1])
def test_what_is_not_plain_data_is_refused_when_encoded(thing):
    with pytest.raises(probe.ChannelError):
        probe.encode(thing)


def test_a_pickled_array_is_refused_when_decoded():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    message = json.dumps({"a": base64.b64encode(buffer.getvalue()).decode()})
    with pytest.raises(probe.ChannelError, match="without pickle"):
        probe.decode(message)
    for malformed in ['{"z": 1}', '{"t": 5}', "[1, 2", '{"a": "!!"}', '{"d": [[1]]}']:
        with pytest.raises(probe.ChannelError):
            probe.decode(malformed)


def test_a_message_over_the_cap_is_refused_both_ways(monkeypatch):
    monkeypatch.setattr(probe, "MAX_BYTES", 1000)
    with pytest.raises(probe.ChannelError, match="more than"):
        probe.encode(np.zeros(1000))
    with pytest.raises(probe.ChannelError):
        probe.decode(json.dumps({"l": list(range(1000))}))


def test_nesting_past_the_limit_is_refused():
    deep = []
    for _ in range(probe.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(probe.ChannelError, match="deep"):
        probe.encode(deep)


def test_plain_turns_tensors_and_array_likes_into_arrays_and_refuses_objects():
    import tensorflow as tf

    class Sneaky:  # converts to numbers: the judge gets the numbers, never the object
        def __array__(self, dtype=None, copy=None):
            return np.array([1.0, 2.0])

        def __eq__(self, other):
            return True

    assert np.array_equal(probe.plain(tf.constant([1.0, 2.0])), [1.0, 2.0])
    assert type(probe.plain(Sneaky())) is np.ndarray
    with pytest.raises(probe.ChannelError, match="not data"):
        probe.plain(type("Model", (), {})())


KERNEL_SETUP = '''
import numpy as np, time
class Thing:
    pass
def twice(x, scale=2):
    return (x * scale, [x.dtype.name, None], {"n": x.shape[0]})
def with_cache(x):
    return x * 2, {"model": Thing(), "x": x}
def an_object():
    return Thing()
def raises():
    raise ValueError("bad shapes (3, 4)")
def not_done():
    raise NotImplementedError()
def uses_inverse(a):
    return np.linalg.inv(a)
def step(x):
    return x + 1
def loop(x):
    return step(x)
def uses_norm(a):
    return np.linalg.norm(a, 2)
def hangs():
    while True:
        time.sleep(0.05)
quiz = {"x": (8, 20, 32), "h": None}
'''


@pytest.fixture(scope="module")
def channel():
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive(KERNEL_SETUP, timeout=60)
        yield Channel(blocking_send(km, kc), timeout=30)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_call_sends_arrays_and_gets_plain_data_back(channel):
    x = np.arange(3, dtype="float32")
    doubled, info, sizes = channel.call("twice", (x,), {"scale": 3})
    assert doubled.dtype == np.float32 and np.array_equal(doubled, [0, 3, 6])
    assert info == ["float32", None] and sizes == {"n": 3}
    assert channel.value("quiz") == {"x": (8, 20, 32), "h": None}


def test_a_result_that_is_not_data_is_a_wrong_answer_with_a_message(channel):
    with pytest.raises(Unconvertible, match="Thing.*not data"):
        channel.call("an_object")


def test_a_part_of_a_result_that_is_not_data_crosses_as_its_type_name_only(channel):
    h, cache = channel.call("with_cache", (np.ones(2),))
    assert np.array_equal(h, [2.0, 2.0])  # the data parts can still be checked
    assert cache["model"] == probe.Opaque("__main__.Thing") and np.array_equal(cache["x"], [1, 1])


def test_the_students_exceptions_come_back_as_the_same_kind(channel):
    with pytest.raises(ValueError, match=r"bad shapes \(3, 4\)"):
        channel.call("raises")
    with pytest.raises(NotImplementedError):
        channel.call("not_done")
    with pytest.raises(NameError, match="not defined"):
        channel.call("no_such_answer")


def test_a_forbid_block_in_the_judge_guards_the_call_in_the_kernel(channel):
    a = np.eye(2) * 2
    assert np.allclose(channel.call("uses_inverse", (a,)), np.eye(2) / 2)  # no guard: allowed
    with remote_only(), forbid("numpy.linalg.inv", task="uses_inverse"):
        with pytest.raises(ForbiddenCallError, match="uses_inverse: you were asked"):
            channel.call("uses_inverse", (a,))
    assert np.allclose(channel.call("uses_inverse", (a,)), np.eye(2) / 2)  # the guard is gone


def test_a_stand_in_is_bound_for_one_call_and_must_be_a_kit_function(channel):
    x = np.zeros((1, 3))
    assert np.array_equal(channel.call("loop", (x,)), x + 1)
    swapped = channel.call("loop", (x,), substitute={"step": "rnn_course_student.probe:plain"})
    assert np.array_equal(swapped, x)  # the kit function ran in place of the student's step
    assert np.array_equal(channel.call("loop", (x,)), x + 1)  # and the student's is back
    with pytest.raises(Unconvertible, match="not a function of the student kit"):
        channel.call("loop", (x,), substitute={"step": "os:system"})


def test_a_stand_in_runs_its_own_reference_under_the_guard_the_student_cannot_call_it(channel):
    w = np.diag([3.0, 1.0])
    with remote_only(), forbid("numpy.linalg.norm", task="loop"):
        # the kit's stand-in computes with numpy.linalg.norm, forbidden to the student's code
        assert channel.call("loop", (w,), substitute={
            "step": "rnn_course_student.measures:largest_singular_value"}) == 3.0
        with pytest.raises(ForbiddenCallError, match="not call numpy.linalg.norm"):
            channel.call("uses_norm", (w,))


def test_a_hang_costs_that_call_only(channel):
    quick = Channel(channel._send, timeout=2)
    with pytest.raises(CallTimeout, match="did not return within 2 s"):
        quick.call("hangs")
    assert np.array_equal(quick.call("step", (np.ones(2),)), [2.0, 2.0])


def test_a_limited_proxy_stops_at_its_limit_and_then_fails_at_once(channel):
    proxy = FunctionProxy(channel, "hangs", {})
    limited = within(proxy, 2)
    started = time.monotonic()
    with pytest.raises(CallTimeout, match="did not return within 2 s"):
        limited()
    first = time.monotonic() - started
    with pytest.raises(CallTimeout, match="not called again"):
        limited()
    assert 2 <= first < 15 and time.monotonic() - started < first + 1
    assert np.array_equal(within(FunctionProxy(channel, "step", {}), 2)(np.ones(2)), [2.0, 2.0])


def test_a_function_that_hung_is_not_waited_for_again(channel):
    quick = Channel(channel._send, timeout=2)
    with pytest.raises(CallTimeout, match="did not return within 2 s"):
        quick.call("hangs")
    started = time.monotonic()
    with pytest.raises(CallTimeout, match="not called again"):
        quick.call("hangs")
    assert time.monotonic() - started < 1
    assert np.array_equal(quick.call("step", (np.ones(2),)), [2.0, 2.0])
