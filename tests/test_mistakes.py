"""The mistake catalogue (course_checks.mistakes): its right functions agree with Keras and
TensorFlow, every catalogued mistake is caught and named, a right but differently written answer
is never blamed, an unknown mistake is described, and a later exercise is not blamed for an
earlier one."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_checks import testing
from course_checks.mistakes import check, check_blaming_earlier, diagnose, rnn1, rnn2, rnn3, rnn4

# The one-to-many mutant with a softmax read-out over one output feature is that very mistake.
pytestmark = pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1:UserWarning")

ASSIGNMENTS = (rnn1, rnn2, rnn3, rnn4)
EXERCISES = [e for module in ASSIGNMENTS for e in module.EXERCISES]
NUMERIC = [e for e in EXERCISES if e.name != "MinimalRNNCell"]  # a cell is judged through Keras
MISTAKES = [(e, m) for e in NUMERIC for m in e.mistakes]


def _cell_class(step):
    """A MinimalRNNCell whose call computes `step(inputs, h_prev, kernel, recurrent, bias)`."""

    class Cell(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                    name="recurrent_kernel")
            self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

        def call(self, inputs, states):
            h = step(inputs, states[0], self.kernel, self.recurrent_kernel, self.bias)
            return h, [h]

    return Cell


# --- the catalogue is big enough, and its right functions are right ------------------------------


def test_every_coded_exercise_has_at_least_five_mistakes_and_thirty_in_all():
    counts = {e.name: len(e.mistakes) for e in EXERCISES}
    assert all(n >= 5 for n in counts.values()), counts
    assert sum(len(e.mistakes) for e in EXERCISES) >= 30
    for e in EXERCISES:
        keys = [m.key for m in e.mistakes]
        assert len(keys) == len(set(keys)), f"{e.name}: duplicate mistake keys {keys}"
        for m in e.mistakes:  # words, not code
            code = ("@", "**", "np.", ".T", "= ")
            assert not any(token in m.message for token in code), m.message


def test_every_exercise_checks_b1_t1_d_not_h_float32_and_float64_where_it_has_those_axes():
    for e in (rnn1.RNN_STEP_FORWARD, rnn1.RNN_FORWARD, rnn2.RNN_STEP_BACKWARD, rnn2.RNN_BACKWARD):
        labels = [c.label for c in e.cases()]
        assert any("B=1" in label and "float32" in label for label in labels), labels
        assert any("B=1" in label and "float64" in label for label in labels), labels
        if "T=" in labels[0]:
            assert any("T=1," in label for label in labels), labels
    assert any(int(c.label.split("T=")[1].split(",")[0]) >= 50 for c in rnn1.RNN_FORWARD.cases())


def test_the_forward_references_equal_keras():
    for case in rnn1.RNN_STEP_FORWARD.cases():
        x_t, h_prev, W_x, W_h, b = case.make()
        expected = testing.keras_rnn_states(x_t[:, None], h_prev, W_x, W_h, b)[:, 0]
        testing.assert_close(rnn1.step_forward(x_t, h_prev, W_x, W_h, b), expected, name=case.label,
                             rtol=case.rtol, atol=case.atol)
    for case in rnn1.RNN_FORWARD.cases():
        args = case.make()
        testing.assert_close(rnn1.forward(*args)[0], testing.keras_rnn_states(*args),
                             name=case.label,
                             rtol=case.rtol, atol=case.atol)
    for D, H in [(32, 64), (3, 7)]:
        layer = keras.layers.SimpleRNN(H)
        layer.build((None, 5, D))
        assert rnn1.param_count(D, H) == layer.count_params()


def test_the_backward_references_equal_tf_gradient_tape():
    for case in rnn2.RNN_BACKWARD.cases():
        dh, x, h0, h, W_x, W_h = case.make()
        # the bias does not enter the gradients once h is given; recover it from the first step
        b = np.arctanh(h[0, 0]) - x[0, 0] @ W_x - h0[0] @ W_h
        expected = testing.tape_rnn_gradients(dh, x, h0, W_x, W_h, b)
        for name, got, want in zip(rnn2.RNN_BACKWARD.outputs, rnn2.backward(dh, x, h0, h, W_x, W_h),
                                   expected, strict=True):
            testing.assert_close(got, want, name=f"{name} for {case.label}",
                                 rtol=max(case.rtol, 1e-4),
                                 atol=max(case.atol, 1e-5))
    x, h0, W_x, W_h, b = rnn1._problem(9, 2, 6, 3, 4)
    h, expected = testing.tape_jacobian_norms(x, h0, W_x, W_h, b)
    testing.assert_close(rnn2.jacobian_norms(h, W_h), expected, name="norms", rtol=1e-8)


def test_the_clipping_references_equal_tensorflow_and_keras():
    for case in rnn3.CLIP_BY_GLOBAL_NORM.cases():
        grads, c = case.make()
        tensors = [None if g is None else tf.constant(g) for g in grads]
        expected, expected_norm = tf.clip_by_global_norm(tensors, c)
        clipped, norm = rnn3.clip_by_global_norm(grads, c)
        testing.assert_close(norm, expected_norm, name="norm", rtol=1e-5)
        for got, want in zip(clipped, expected, strict=True):
            assert (got is None) == (want is None)
            if want is not None:
                testing.assert_close(got, want, name=case.label, rtol=1e-5, atol=1e-7)
    for max_norm in (1.0, None):
        mine = rnn3.make_train_case(max_norm)
        model, _, x, y, _ = rnn3.make_train_case(max_norm)
        model.set_weights(mine[0].get_weights())
        model.compile(optimizer=keras.optimizers.SGD(0.05, global_clipnorm=max_norm), loss="mse")
        model.train_on_batch(x, y)
        rnn3.train_step(*mine)
        for got, want in zip(mine[0].get_weights(), model.get_weights(), strict=True):
            testing.assert_close(got, want, name=f"weights, max_norm={max_norm}", rtol=1e-4,
                                 atol=1e-6)


# --- every mistake is caught and named; right answers are not blamed ------------------------------


@pytest.mark.parametrize("exercise, mistake", MISTAKES,
                         ids=[f"{e.name}-{m.key}" for e, m in MISTAKES])
def test_every_catalogued_mistake_is_caught_and_named(exercise, mistake):
    """Through `check`, as a hidden test runs it (the catalogue's right functions forbidden while
    the answer runs): the message is the mistake's own, not another one's nor a forbidden call."""
    with pytest.raises(AssertionError) as failure:
        check(exercise, mistake.mutant, namespace={})
    assert type(failure.value) is AssertionError, failure.value
    assert str(failure.value) == f"{exercise.name}: {mistake.message}."


@pytest.mark.parametrize("key", [m.key for m in rnn1.MINIMAL_RNN_CELL.mistakes])
def test_every_cell_mistake_is_named_through_keras(key):
    ops = keras.ops
    steps = {
        "sigmoid": lambda x, h, K, R, b: ops.sigmoid(ops.matmul(x, K) + ops.matmul(h, R) + b),
        "no_activation": lambda x, h, K, R, b: ops.matmul(x, K) + ops.matmul(h, R) + b,
        "recurrent_transposed": lambda x, h, K, R, b: ops.tanh(
            ops.matmul(x, K) + ops.matmul(h, ops.transpose(R)) + b),
        "no_bias": lambda x, h, K, R, b: ops.tanh(ops.matmul(x, K) + ops.matmul(h, R)),
        "no_recurrence": lambda x, h, K, R, b: ops.tanh(ops.matmul(x, K) + b),
        "kernels_swapped": lambda x, h, K, R, b: ops.tanh(ops.matmul(x, R) + ops.matmul(h, K) + b),
    }
    message = diagnose(rnn1.MINIMAL_RNN_CELL, rnn1.cell_runner(_cell_class(steps[key])))
    assert message == f"MinimalRNNCell: {rnn1.MINIMAL_RNN_CELL.mistake(key).message}."


def test_a_right_cell_is_not_blamed():
    right = _cell_class(lambda x, h, K, R, b: keras.ops.tanh(
        keras.ops.matmul(x, K) + keras.ops.matmul(h, R) + b))
    assert diagnose(rnn1.MINIMAL_RNN_CELL, rnn1.cell_runner(right)) is None


def _einsum_step(x_t, h_prev, W_x, W_h, b):
    return np.tanh(np.einsum("bd,dh->bh", x_t, W_x) + np.einsum("bi,ij->bj", h_prev, W_h) + b)


def _tf_step(x_t, h_prev, W_x, W_h, b):
    return tf.tanh(tf.matmul(x_t, W_x) + tf.matmul(h_prev, W_h) + b).numpy()


def _forward_other_cache(x, h0, W_x, W_h, b):
    states, h_prev = [], h0
    for t in range(x.shape[1]):
        h_prev = np.tanh(x[:, t] @ W_x + h_prev @ W_h + b)
        states.append(h_prev)
    return np.stack(states, axis=1), {"states": states}


def _backward_vectorised(dh, x, h0, h, W_x, W_h):
    B, T, _ = x.shape
    dz = np.zeros_like(h, dtype=np.float64)
    carry = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        dz[:, t] = (dh[:, t] + carry) * (1 - h[:, t] ** 2)
        carry = dz[:, t] @ W_h.T
    previous = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    return (dz @ W_x.T, carry, np.einsum("btd,bth->dh", x, dz),
            np.einsum("bti,btj->ij", previous, dz),
            dz.sum(axis=(0, 1)))


def _jacobian_einsum(h, W_h):
    B, T, H = h.shape
    product, norms = np.tile(np.eye(H), (B, 1, 1)), [np.ones(B)]
    for t in range(T - 1, 0, -1):
        product = np.einsum("bij,bjk->bik", product, (1 - h[:, t] ** 2)[:, :, None] * W_h.T)
        norms.append(np.linalg.svd(product, compute_uv=False)[:, 0])
    return np.stack(norms, axis=1)


def _clip_numpy(grads, max_norm):
    norm = np.sqrt(sum(float(np.sum(np.square(np.asarray(g, np.float64))))
                       for g in grads if g is not None))
    factor = max_norm / max(norm, max_norm)
    return [None if g is None else (np.asarray(g) * factor).astype(np.asarray(g).dtype)
            for g in grads], norm


def _train_step_other(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x))
    grads = tape.gradient(loss, model.trainable_weights)
    norm = np.sqrt(sum(np.sum(np.square(g.numpy().astype(np.float64))) for g in grads))
    if max_norm is not None:
        grads = [g * min(1.0, max_norm / norm) for g in grads]
    optimizer.apply_gradients(list(zip(grads, model.trainable_weights, strict=True)))
    return float(loss), float(norm)


def _many_to_one_functional_softmax(input_dim, num_classes, units=16):
    from rnn_tf.layer import SimpleRNN

    model = keras.Sequential([keras.Input((None, input_dim)), SimpleRNN(units),
                              keras.layers.Dense(num_classes), keras.layers.Activation("softmax")])
    return model


def _one_to_many_state_only(input_dim, seq_len, output_dim=1, units=16):
    from rnn_tf.layer import SimpleRNN

    vector = keras.Input((input_dim,))
    h0 = keras.layers.Dense(units, activation="tanh")(vector)
    steps = keras.layers.RepeatVector(seq_len)(keras.layers.Dense(4)(vector))
    states = SimpleRNN(units, return_sequences=True)(steps, initial_state=h0)
    return keras.Model(vector, keras.layers.Dense(output_dim)(states))


RIGHT_BUT_DIFFERENT = [
    (rnn1.RNN_STEP_FORWARD, _einsum_step), (rnn1.RNN_STEP_FORWARD, _tf_step),
    (rnn1.RNN_FORWARD, _forward_other_cache), (rnn1.RNN_PARAM_COUNT, lambda D, H: H * (D + H + 1)),
    (rnn1.TO_COLUMN_LAYOUT, lambda k, r: (np.transpose(k), np.swapaxes(r, 0, 1))),
    (rnn2.RNN_BACKWARD, _backward_vectorised), (rnn2.JACOBIAN_NORMS, _jacobian_einsum),
    (rnn2.TANH_SLOPE, lambda h: (1 - np.asarray(h)) * (1 + np.asarray(h))),
    (rnn3.CLIP_BY_GLOBAL_NORM, _clip_numpy), (rnn3.TRAIN_STEP, _train_step_other),
    (rnn3.CLIPPED_STEP_BOUND, lambda lr, c: c * lr),
    (rnn4.BUILD_MANY_TO_ONE, _many_to_one_functional_softmax),
    (rnn4.BUILD_ONE_TO_MANY, _one_to_many_state_only),
]


@pytest.mark.parametrize("exercise, answer", RIGHT_BUT_DIFFERENT,
                         ids=[f"{e.name}-{a.__name__}" for e, a in RIGHT_BUT_DIFFERENT])
def test_a_right_but_differently_written_answer_is_not_blamed(exercise, answer):
    assert diagnose(exercise, answer) is None
    check(exercise, answer, namespace={})


def test_every_reference_passes_its_own_check():
    for exercise in NUMERIC:
        assert diagnose(exercise, exercise.reference) is None, exercise.name


# --- mistakes the catalogue does not know -------------------------------------------------------


def test_an_unknown_mistake_is_described_with_where_and_a_pointer():
    message = diagnose(rnn1.RNN_STEP_FORWARD, lambda *a: 2 * rnn1.step_forward(*a))
    assert message.startswith("rnn_step_forward: h_t is wrong for B=3, D=4, H=5, float64:")
    assert "first wrong at h_t[0, 0]: expected" in message and "section 2, One step" in message
    assert "values differ" not in message  # a place, never a bare count
    message = diagnose(rnn2.RNN_BACKWARD,
                       lambda *a: rnn2.backward(*a)[:3] + (rnn2.backward(*a)[3] * 0.5,
                                                                           rnn2.backward(*a)[4]))
    assert message.startswith("rnn_backward: dW_h is wrong for ") and "section 2" in message
    assert "first wrong at dW_h[0, 0]" in message


def test_an_unknown_loop_mistake_names_the_first_wrong_time_step():
    def drifts_after_three_steps(x, h0, W_x, W_h, b):
        h, cache = rnn1.forward(x, h0, W_x, W_h, b)
        h = h.copy()
        h[:, 3:] *= 0.9
        return h, cache

    message = diagnose(rnn1.RNN_FORWARD, drifts_after_three_steps)
    assert ("right for time steps t = 0 to 2, first wrong at time step t = 3 of 60 (h[0, 3, "
            in message)
    assert message.endswith("(section 3, The whole sequence).")

    def dx_wrong_before_the_last_two_steps(*args):
        dx, *rest = rnn2.backward(*args)
        dx = dx.copy()
        dx[:, :-2] *= 2
        return (dx, *rest)

    message = diagnose(rnn2.RNN_BACKWARD, dx_wrong_before_the_last_two_steps)
    assert "dx is wrong for B=3, T=7" in message
    assert ("right for the last 2 step(s), walking back from t = 6, first wrong at time step t = 4"
            in message)


def test_two_mistakes_in_different_outputs_name_the_first_and_say_there_is_more():
    def two_slips(dh_t, x_t, h_prev, h_t, W_x, W_h):
        dx, dh_prev, dW_x, dW_h, db = rnn2.step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h)
        wrong_dW_h = rnn2._step(dh_t, x_t, h_prev, h_t, W_x, W_h, weights_from=lambda p, t: t)[3]
        return dx, dh_prev, dW_x, wrong_dW_h, (dh_t * (1 - h_t**2)).mean(axis=0)

    message = diagnose(rnn2.RNN_STEP_BACKWARD, two_slips)
    assert rnn2.RNN_STEP_BACKWARD.mistake("dW_h_from_h_t").message in message
    assert "not the only difference" in message


def test_a_function_that_raises_or_returns_the_wrong_kind_is_described():
    def broken(*args):
        raise KeyError("oops")

    assert "raised KeyError" in diagnose(rnn2.TANH_SLOPE, broken)
    assert "expected the tuple (dx_t, dh_prev, dW_x, dW_h, db), got ndarray" in diagnose(
        rnn2.RNN_STEP_BACKWARD, lambda *a: np.zeros(3))


def test_a_forbidden_call_is_passed_on_not_diagnosed():
    def cheat(grads, max_norm):
        return tf.clip_by_global_norm(grads, max_norm)

    with pytest.raises(testing.ForbiddenCallError, match="clip_by_global_norm"):
        diagnose(rnn3.CLIP_BY_GLOBAL_NORM, cheat,
                 guard=lambda: testing.forbid(*testing.CLIPPING_FORBIDDEN,
                                              task="clip_by_global_norm",
                                              namespaces=[cheat.__globals__]))


# --- blame in the right place --------------------------------------------------------------------


def _notebook(source):
    """Functions defined as a notebook would define them: in one shared namespace."""
    namespace = {"np": np, "tf": tf}
    exec(source, namespace)
    return namespace


FORWARD_CALLING_STEP = """
def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    return 1 / (1 + np.exp(-(x_t @ W_x + h_prev @ W_h + b)))   # sigmoid: wrong

def rnn_forward(x, h0, W_x, W_h, b):
    h, h_prev = np.zeros((x.shape[0], x.shape[1], h0.shape[1])), h0
    for t in range(x.shape[1]):
        h_prev = rnn_step_forward(x[:, t], {carry}, W_x, W_h, b)
        h[:, t] = h_prev
    return h, None
"""


def test_a_right_forward_pass_is_not_blamed_for_a_wrong_step(capsys):
    notebook = _notebook(FORWARD_CALLING_STEP.format(carry="h_prev"))
    check(rnn1.RNN_FORWARD, notebook["rnn_forward"])  # passes: the points are kept
    assert ("rnn_forward is right, but it calls your rnn_step_forward, which fails its own check: "
            "fix that first.") in capsys.readouterr().out
    assert notebook["rnn_step_forward"].__name__ == "rnn_step_forward"  # the student's again
    with pytest.raises(AssertionError, match="^rnn_step_forward: your h_t is what the sigmoid"):
        check(rnn1.RNN_STEP_FORWARD, notebook["rnn_step_forward"])


def test_a_wrong_forward_pass_is_blamed_for_its_own_mistake_not_the_step_s():
    notebook = _notebook(FORWARD_CALLING_STEP.format(carry="h0"))
    with pytest.raises(AssertionError) as failure:
        check(rnn1.RNN_FORWARD, notebook["rnn_forward"])
    mistake = rnn1.RNN_FORWARD.mistake("state_not_carried")
    assert str(failure.value) == f"rnn_forward: {mistake.message}."


BACKWARD_LOOP = """
def rnn_backward(dh, x, h0, h, W_x, W_h):
    grads = [np.zeros(x.shape), None, 0.0, 0.0, 0.0]
    carry = np.zeros(h0.shape)
    for t in reversed(range(x.shape[1])):
        h_prev = h[:, t - 1] if t > 0 else h0
        dx_t, carry, *shares = rnn_step_backward(dh[:, t] + {carry}, x[:, t], h_prev, h[:, t],
                                                 W_x, W_h)
        grads[0][:, t] = dx_t
        grads[2:] = [total + share for total, share in zip(grads[2:], shares)]
    grads[1] = carry
    return tuple(grads)
"""
BACKWARD_CALLING_STEP = """
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    dz = dh_t                                   # tanh derivative left out: wrong
    return dz @ W_x.T, dz @ W_h.T, x_t.T @ dz, h_prev.T @ dz, dz.sum(axis=0)
""" + BACKWARD_LOOP


def test_a_right_bptt_is_not_blamed_for_a_wrong_step_and_a_wrong_one_is_named(capsys):
    right = _notebook(BACKWARD_CALLING_STEP.format(carry="carry"))
    check(rnn2.RNN_BACKWARD, right["rnn_backward"])
    assert "rnn_backward is right, but it calls your rnn_step_backward" in capsys.readouterr().out
    wrong = _notebook(BACKWARD_CALLING_STEP.format(carry="0"))
    with pytest.raises(AssertionError,
                       match="^rnn_backward: your gradients are what you get when each "
                                             "step sees only its direct gradient"):
        check(rnn2.RNN_BACKWARD, wrong["rnn_backward"])


def test_a_right_train_step_is_not_blamed_for_a_wrong_clip(capsys):
    notebook = _notebook("""
def clip_by_global_norm(grads, max_norm):
    norm = tf.sqrt(tf.add_n([tf.reduce_sum(g**2) for g in grads]))
    return [g * norm / max_norm for g in grads], norm          # factor upside down: wrong
""" + TRAIN_STEP)
    check(rnn3.TRAIN_STEP, notebook["train_step"])
    assert "train_step is right, but it calls your clip_by_global_norm" in capsys.readouterr().out


TRAIN_STEP = """
def train_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    if max_norm is None:
        norm = tf.sqrt(tf.add_n([tf.reduce_sum(g**2) for g in grads]))
    else:
        grads, norm = clip_by_global_norm(grads, max_norm)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss), float(norm)
"""


def test_check_blaming_earlier_with_a_trusted_substitute(capsys):
    notebook = _notebook(FORWARD_CALLING_STEP.format(carry="h_prev"))
    args = rnn1._problem(3, 2, 8, 3, 4)
    expected = testing.keras_rnn_states(*args)

    def visible_check():
        testing.assert_close(notebook["rnn_forward"](*args)[0], expected, name="h")

    check_blaming_earlier(visible_check, notebook["rnn_forward"],
                          rnn_step_forward=rnn1.step_forward)
    assert "rnn_forward is right, but it calls your rnn_step_forward" in capsys.readouterr().out
    broken = _notebook(FORWARD_CALLING_STEP.format(carry="h0"))

    def failing_check():
        testing.assert_close(broken["rnn_forward"](*args)[0], expected, name="h")

    with pytest.raises(AssertionError, match="h does not match"):
        check_blaming_earlier(failing_check, broken["rnn_forward"],
                              rnn_step_forward=rnn1.step_forward)
    assert broken["rnn_step_forward"].__name__ == "rnn_step_forward"


LATER_CALLS_EARLIER = [
    (rnn1.RNN_FORWARD, rnn1.RNN_STEP_FORWARD, "rnn_forward", """
def rnn_forward(x, h0, W_x, W_h, b):
    h, h_prev = np.zeros((x.shape[0], x.shape[1], h0.shape[1])), h0
    for t in range(x.shape[1]):
        h_prev = rnn_step_forward(x[:, t], h_prev, W_x, W_h, b)
        h[:, t] = h_prev
    return h, None
"""),
    (rnn2.RNN_BACKWARD, rnn2.RNN_STEP_BACKWARD, "rnn_backward",
     BACKWARD_LOOP.format(carry="carry")),
]


@pytest.mark.parametrize("later, earlier, name, source", LATER_CALLS_EARLIER,
                         ids=["forward", "backward"])
def test_no_right_later_function_is_blamed_for_any_earlier_mistake(later, earlier, name, source,
                                                                   capsys):
    for mistake in earlier.mistakes:
        notebook = _notebook(source)
        notebook[earlier.name] = mistake.mutant
        check(later, notebook[name])  # passes: the later exercise keeps its points
        note = f"{name} is right, but it calls your {earlier.name}"
        assert note in capsys.readouterr().out, mistake.key
        assert notebook[earlier.name] is mistake.mutant


def test_no_right_train_step_is_blamed_for_any_clipping_mistake(capsys):
    for mistake in rnn3.CLIP_BY_GLOBAL_NORM.mistakes:
        notebook = _notebook(TRAIN_STEP)
        notebook["clip_by_global_norm"] = mistake.mutant
        check(rnn3.TRAIN_STEP, notebook["train_step"])  # passes: the points are kept
        note = "train_step is right, but it calls your clip_by_global_norm"
        noted = note in capsys.readouterr().out
        # A slip that cannot show in a training step gets no note: a None entry dropped, a
        # norm below the threshold, float64 gradients (the optimizer casts them to the weights').
        assert noted or mistake.key in ("always_scales", "drops_none",
                                        "float64_output"), mistake.key


def test_the_kit_s_trusted_earlier_functions_equal_the_catalogue_s():
    from rnn_course_student.checks import (
        trusted_clip_by_global_norm,
        trusted_step_backward,
        trusted_step_forward,
    )

    for case in rnn1.RNN_STEP_FORWARD.cases():
        testing.assert_close(trusted_step_forward(*case.make()), rnn1.step_forward(*case.make()),
                             name=case.label, rtol=1e-4, atol=1e-5)
    for case in rnn2.RNN_STEP_BACKWARD.cases():
        for got, want in zip(trusted_step_backward(*case.make()), rnn2.step_backward(*case.make()),
                             strict=True):
            testing.assert_close(got, want, name=case.label, rtol=1e-4, atol=1e-5)
    for case in rnn3.CLIP_BY_GLOBAL_NORM.cases():
        clipped, norm = trusted_clip_by_global_norm(*case.make())
        want, want_norm = rnn3.clip_by_global_norm(*case.make())
        testing.assert_close(norm, want_norm, name=case.label, rtol=1e-5)


# --- the notebooks use the catalogue, and unknown mistakes are not mistaken for known ones ------


def test_every_catalogued_exercise_is_diagnosed_first_in_a_hidden_test_of_its_notebook():
    import nbformat

    from autograder.course.folder import COURSE_DIR

    for number, module in enumerate(ASSIGNMENTS, start=1):
        folder = next((COURSE_DIR / "source").glob(f"rnn{number}_*"))
        cells = nbformat.read(folder / f"{folder.name}.ipynb", as_version=4).cells
        graded = [c.source for c in cells if c.metadata.get("nbgrader", {}).get("grade")
                  and not c.metadata["nbgrader"].get("solution")]
        for exercise in module.EXERCISES:
            call = f"check(_catalogue.{next(k for k, v in vars(module).items() if v is exercise)},"
            holders = [s for s in graded if call in s]
            assert holders, f"{folder.name}: no hidden test calls {call}"
            hidden = holders[0].split("### BEGIN HIDDEN TESTS", 1)
            assert len(hidden) == 2 and call in hidden[1].split("### END HIDDEN TESTS")[0], call
            assert not hidden[0].strip("\n").count("\n"), (
                f"{call} must run before the visible checks")


UNKNOWN_MISTAKES = [
    (rnn1.RNN_STEP_FORWARD,
     lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + 0.5 * h_prev @ W_h + b)),
    (rnn1.RNN_FORWARD,
     lambda x, h0, W_x, W_h, b: (rnn1.forward(x, h0, W_x, W_h, b)[0] * 0.99, None)),
    (rnn1.RNN_PARAM_COUNT, lambda D, H: D * H + H * H + H + 1),
    (rnn2.RNN_STEP_BACKWARD,
     lambda *a: rnn2.step_backward(*a)[:2] + (2 * rnn2.step_backward(*a)[2],)
     + rnn2.step_backward(*a)[3:]),
    (rnn2.RNN_BACKWARD,
     lambda *a: (rnn2.backward(*a)[0], -rnn2.backward(*a)[1]) + rnn2.backward(*a)[2:]),
    (rnn2.JACOBIAN_NORMS, lambda h, W_h: rnn2.jacobian_norms(h, W_h) ** 2),
    (rnn2.TANH_SLOPE, lambda h: np.cos(np.asarray(h))),
    (rnn3.CLIP_BY_GLOBAL_NORM, lambda grads, c: rnn3.clip_by_global_norm(grads, 0.9 * c)),
    (rnn3.CLIPPED_STEP_BOUND, lambda lr, c: lr + c),
]


@pytest.mark.parametrize("exercise, answer", UNKNOWN_MISTAKES,
                         ids=[e.name for e, _ in UNKNOWN_MISTAKES])
def test_a_mistake_outside_the_catalogue_is_described_not_misnamed(exercise, answer):
    message = diagnose(exercise, answer)
    assert message is not None, message
    assert " is wrong for " in message and exercise.section in message, message
    assert not any(m.message in message for m in exercise.mistakes), message



def test_a_student_who_calls_the_catalogue_s_right_function_is_stopped():
    notebook = _notebook("from course_checks.mistakes.rnn1 import step_forward as borrowed\n"
                         "def rnn_step_forward(x_t, h_prev, W_x, W_h, b):\n"
                         "    return borrowed(x_t, h_prev, W_x, W_h, b)\n")
    with pytest.raises(testing.ForbiddenCallError,
                       match="rnn_step_forward: .*course_checks.mistakes.rnn1.step_forward"):
        check(rnn1.RNN_STEP_FORWARD, notebook["rnn_step_forward"])
    assert notebook["borrowed"] is rnn1.step_forward  # restored


def test_a_submission_that_replaces_numpy_cannot_make_a_wrong_answer_pass(monkeypatch):
    monkeypatch.setattr(np, "abs", lambda x: np.zeros_like(x))
    monkeypatch.setattr(np, "any", lambda *a, **k: False)
    assert diagnose(rnn2.TANH_SLOPE, rnn2.TANH_SLOPE.mistake("not_squared").mutant) is not None


def test_a_loop_that_reaches_the_step_through_a_helper_is_not_blamed_nor_noted_when_unused(capsys):
    through_helper = _notebook(FORWARD_CALLING_STEP.format(carry="h_prev").replace(
        "rnn_step_forward(x[:, t], h_prev",
        "helper(x[:, t], h_prev") + "\nhelper = lambda *a: rnn_step_forward(*a)\n")
    check(rnn1.RNN_FORWARD, through_helper["rnn_forward"])
    assert "rnn_forward is right, but it calls your rnn_step_forward" in capsys.readouterr().out
    inline = _notebook(FORWARD_CALLING_STEP.format(carry="h_prev").replace(
        "rnn_step_forward(x[:, t], h_prev, W_x, W_h, b)",
        "np.tanh(x[:, t] @ W_x + h_prev @ W_h + b)"))
    check(rnn1.RNN_FORWARD, inline["rnn_forward"])
    assert "rnn_forward is right" not in capsys.readouterr().out
