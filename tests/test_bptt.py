"""rnn_tf.bptt against Keras's SimpleRNN, tf.GradientTape and central finite differences."""

import re

import hypothesis.strategies as st
import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings

from rnn_tf.bptt import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

# (B, T, D, H): includes T = 1, B = 1 and D != H; W_h is never symmetric (drawn at random).
SHAPES = [(2, 4, 3, 5), (1, 1, 2, 3), (1, 6, 4, 2), (3, 1, 1, 1)]
# Gradients here are float64 end to end; differences come from rounding only.
TAPE_RTOL = 1e-10
# Central differences with step 1e-6 have truncation + rounding error around 1e-10 relative.
FD_RTOL = 1e-7


def relative_error(actual, expected):
    """max |a - e| / max(|a| + |e|) over all entries, 0 when both are zero."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = np.max(np.abs(actual) + np.abs(expected))
    return 0.0 if scale == 0 else float(np.max(np.abs(actual - expected)) / scale)


def random_problem(B, T, D, H, seed=0):
    """Inputs, weights and an upstream gradient dh, scaled so tanh is neither linear nor flat."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, T, D))
    h0 = rng.normal(scale=0.5, size=(B, H))
    W_x = rng.normal(scale=0.6, size=(D, H))
    W_h = rng.normal(scale=0.6, size=(H, H))
    b = rng.normal(scale=0.2, size=H)
    dh = rng.normal(size=(B, T, H))
    return x, h0, W_x, W_h, b, dh


def tape_gradients(x, h0, W_x, W_h, b, dh):
    """Gradients of L = sum(dh * h) with respect to (x, h0, W_x, W_h, b), by tf.GradientTape."""
    tensors = [tf.constant(a, dtype=tf.float64) for a in (x, h0, W_x, W_h, b)]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        x_, h_, W_x_, W_h_, b_ = tensors
        states = []
        for t in range(x.shape[1]):
            h_ = tf.tanh(x_[:, t] @ W_x_ + h_ @ W_h_ + b_)
            states.append(h_)
        loss = tf.reduce_sum(tf.stack(states, axis=1) * dh)
    return [g.numpy() for g in tape.gradient(loss, tensors)]


def finite_difference_gradients(x, h0, W_x, W_h, b, dh, eps=1e-6):
    """Central differences of L = sum(dh * h) with respect to (x, h0, W_x, W_h, b)."""
    params = [a.copy() for a in (x, h0, W_x, W_h, b)]

    def loss():
        h, _ = rnn_forward(*params)
        return np.sum(dh * h)

    grads = []
    for p in params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            saved = p[i]
            p[i] = saved + eps
            up = loss()
            p[i] = saved - eps
            down = loss()
            p[i] = saved
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("B,T,D,H", SHAPES)
def test_rnn_forward_matches_keras_simple_rnn(B, T, D, H):
    x, h0, W_x, W_h, b, _ = random_problem(B, T, D, H)
    layer = keras.layers.SimpleRNN(H, return_sequences=True, dtype="float64")
    layer.build((B, T, D))
    layer.set_weights([W_x, W_h, b])  # Keras's kernel, recurrent_kernel, bias: row layout as ours
    expected = layer(x, initial_state=[h0]).numpy()

    h, cache = rnn_forward(x, h0, W_x, W_h, b)

    assert h.shape == (B, T, H) and h.dtype == np.float64
    np.testing.assert_allclose(h, expected, rtol=0, atol=1e-12)
    assert len(cache) == 5 and cache[2] is h


def test_rnn_step_forward_is_one_step_of_rnn_forward():
    x, h0, W_x, W_h, b, _ = random_problem(2, 3, 3, 4)
    h, _ = rnn_forward(x, h0, W_x, W_h, b)
    h1 = rnn_step_forward(x[:, 0], h0, W_x, W_h, b)
    h2 = rnn_step_forward(x[:, 1], h1, W_x, W_h, b)
    np.testing.assert_allclose(h2, h[:, 1], rtol=0, atol=1e-15)
    np.testing.assert_allclose(h1, np.tanh(x[:, 0] @ W_x + h0 @ W_h + b), rtol=0, atol=1e-15)


@pytest.mark.parametrize("B,T,D,H", SHAPES)
def test_rnn_backward_matches_gradient_tape(B, T, D, H):
    x, h0, W_x, W_h, b, dh = random_problem(B, T, D, H, seed=1)
    assert not np.allclose(W_h, W_h.T) or H == 1
    h, cache = rnn_forward(x, h0, W_x, W_h, b)

    ours = rnn_backward(dh, *cache)
    expected = tape_gradients(x, h0, W_x, W_h, b, dh)

    for name, got, want in zip(("dx", "dh0", "dW_x", "dW_h", "db"), ours, expected, strict=True):
        assert got.shape == want.shape, name
        assert relative_error(got, want) < TAPE_RTOL, name


@pytest.mark.parametrize("B,T,D,H", SHAPES)
def test_rnn_backward_matches_central_finite_differences(B, T, D, H):
    x, h0, W_x, W_h, b, dh = random_problem(B, T, D, H, seed=2)
    h, cache = rnn_forward(x, h0, W_x, W_h, b)

    ours = rnn_backward(dh, *cache)
    numeric = finite_difference_gradients(x, h0, W_x, W_h, b, dh)

    for name, got, want in zip(("dx", "dh0", "dW_x", "dW_h", "db"), ours, numeric, strict=True):
        assert relative_error(got, want) < FD_RTOL, name


@settings(max_examples=20, deadline=None)
@given(
    B=st.integers(1, 3),
    T=st.integers(1, 4),
    D=st.integers(1, 4),
    H=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_rnn_backward_matches_finite_differences_for_any_shape(B, T, D, H, seed):
    x, h0, W_x, W_h, b, dh = random_problem(B, T, D, H, seed=seed)
    h, cache = rnn_forward(x, h0, W_x, W_h, b)
    ours = rnn_backward(dh, *cache)
    numeric = finite_difference_gradients(x, h0, W_x, W_h, b, dh)
    for got, want in zip(ours, numeric, strict=True):
        assert relative_error(got, want) < FD_RTOL


def test_rnn_step_backward_matches_gradient_tape():
    x, h0, W_x, W_h, b, dh = random_problem(3, 1, 2, 4, seed=3)
    x_t, dh_t = x[:, 0], dh[:, 0]
    h_t = rnn_step_forward(x_t, h0, W_x, W_h, b)

    dx_t, dh_prev, dW_x, dW_h, db = rnn_step_backward(dh_t, x_t, h0, h_t, W_x, W_h)

    expected = tape_gradients(x, h0, W_x, W_h, b, dh)
    for got, want in zip((dx_t, dh_prev, dW_x, dW_h, db), expected, strict=True):
        assert relative_error(got, np.reshape(want, np.shape(got))) < TAPE_RTOL


def test_rnn_backward_accumulates_the_direct_gradient_of_earlier_steps():
    # A loss on the first step only must give no gradient to later inputs.
    x, h0, W_x, W_h, b, _ = random_problem(2, 4, 3, 3, seed=4)
    h, cache = rnn_forward(x, h0, W_x, W_h, b)
    dh = np.zeros_like(h)
    dh[:, 0] = 1.0
    dx, *_ = rnn_backward(dh, *cache)
    assert np.all(dx[:, 1:] == 0) and np.any(dx[:, 0] != 0)


def test_functions_accept_tensorflow_tensors_and_return_float64():
    x, h0, W_x, W_h, b, dh = random_problem(2, 3, 3, 4)
    as_tf = [tf.constant(a, dtype=tf.float32) for a in (x, h0, W_x, W_h, b)]
    h, cache = rnn_forward(*as_tf)
    assert h.dtype == np.float64
    grads = rnn_backward(tf.constant(dh), *cache)
    assert all(g.dtype == np.float64 for g in grads)


def step_forward(p, **changed):
    args = dict(x_t=p["x"][:, 0], h_prev=p["h0"], W_x=p["W_x"], W_h=p["W_h"], b=p["b"])
    return rnn_step_forward(**{**args, **changed})


def forward(p, **changed):
    return rnn_forward(**{**dict(x=p["x"], h0=p["h0"], W_x=p["W_x"], W_h=p["W_h"], b=p["b"]),
                          **changed})  # fmt: skip


def step_backward(p, **changed):
    args = dict(dh_t=p["h0"], x_t=p["x"][:, 0], h_prev=p["h0"], h_t=p["h0"], W_x=p["W_x"],
                W_h=p["W_h"])  # fmt: skip
    return rnn_step_backward(**{**args, **changed})


def backward(p, **changed):
    args = dict(dh=p["h"], x=p["x"], h0=p["h0"], h=p["h"], W_x=p["W_x"], W_h=p["W_h"])
    return rnn_backward(**{**args, **changed})


# (name, call on a (B=2, T=3, D=3, H=4) problem with one argument of the wrong shape, the shape
# the message must name)
MISMATCHES = [
    ("step_forward_h_prev", lambda p: step_forward(p, h_prev=np.zeros((2, 5))), "(2, 5)"),
    ("step_forward_W_x", lambda p: step_forward(p, W_x=np.zeros((2, 4))), "(2, 4)"),
    ("step_forward_b", lambda p: step_forward(p, b=np.zeros(3)), "(3,)"),
    ("forward_W_h_not_square", lambda p: forward(p, W_h=np.zeros((4, 3))), "(4, 3)"),
    ("forward_x_2d", lambda p: forward(p, x=p["x"][:, 0]), "(2, 3)"),
    ("forward_h0_batch", lambda p: forward(p, h0=np.zeros((3, 4))), "(3, 4)"),
    ("step_backward_dh_t", lambda p: step_backward(p, dh_t=np.zeros((2, 3))), "(2, 3)"),
    ("backward_dh_time", lambda p: backward(p, dh=np.zeros((2, 2, 4))), "(2, 2, 4)"),
    ("backward_h", lambda p: backward(p, h=p["h"][:, :2]), "(2, 2, 4)"),
]


@pytest.mark.parametrize("case", MISMATCHES, ids=[m[0] for m in MISMATCHES])
def test_mismatched_shapes_raise_value_error_naming_the_shapes(case):
    _, call, shape = case
    x, h0, W_x, W_h, b, _ = random_problem(2, 3, 3, 4)
    h, _ = rnn_forward(x, h0, W_x, W_h, b)
    problem = dict(x=x, h0=h0, W_x=W_x, W_h=W_h, b=b, h=h)
    with pytest.raises(ValueError, match=re.escape(shape)):
        call(problem)


def test_docstring_examples_run():
    import doctest

    import rnn_tf.bptt

    result = doctest.testmod(rnn_tf.bptt, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("function", ["rnn_forward", "rnn_backward"])
def test_arguments_are_checked_once_per_call_not_once_per_step(function, monkeypatch):
    import rnn_tf.bptt as bptt

    conversions = []
    original = bptt._as_float64
    monkeypatch.setattr(bptt, "_as_float64",
                        lambda *args: conversions.append(args[0]) or original(*args))

    def count(T):
        x, h0, W_x, W_h, b, dh = random_problem(2, T, 3, 4)
        h, cache = rnn_forward(x, h0, W_x, W_h, b)
        conversions.clear()
        if function == "rnn_forward":
            rnn_forward(x, h0, W_x, W_h, b)
        else:
            rnn_backward(dh, *cache)
        return len(conversions)

    assert count(1) == count(30) > 0
