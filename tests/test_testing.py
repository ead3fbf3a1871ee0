"""course_checks.testing: the helpers the course's test cells rely on fail when they should,
explain why, block the APIs an exercise must not call, and compute trustworthy references."""

import logging
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_checks import testing
from course_checks.testing import (
    ForbiddenCallError,
    assert_close,
    assert_not_used,
    assert_shape,
    forbid,
)


def test_assert_close_accepts_values_within_tolerance_and_tensors():
    assert_close(tf.constant([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]), name="h")


def test_assert_close_failure_says_expected_got_and_usual_cause():
    with pytest.raises(AssertionError) as failure:
        assert_close(np.array([[1.0, 2.0]]), np.array([[1.0, 2.5]]), name="dW_h",
                     reference="tf.GradientTape", hint="are you accumulating over t?")
    message = str(failure.value)
    for part in ("dW_h does not match tf.GradientTape", "index (0, 1)", "expected 2.5", "got 2",
                 "Usual cause: are you accumulating over t?"):
        assert part in message


def test_assert_close_reports_wrong_shape_none_and_nan_plainly():
    with pytest.raises(AssertionError, match=r"h: expected shape \(2, 3\), got \(3, 2\)"):
        assert_close(np.zeros((3, 2)), np.zeros((2, 3)), name="h")
    with pytest.raises(AssertionError, match="got None.*return"):
        assert_close(None, np.zeros(2), name="h")
    with pytest.raises(AssertionError, match="non-finite"):
        assert_close(np.array([np.nan, 1.0]), np.ones(2), name="h")


def test_assert_close_ignores_a_monkeypatched_numpy(monkeypatch):
    # A submission replacing np.allclose/np.abs after the set-up cell must not make wrong answers
    # pass.
    monkeypatch.setattr(np, "abs", lambda x: np.zeros_like(x))
    monkeypatch.setattr(np, "allclose", lambda *a, **k: True)
    with pytest.raises(AssertionError):
        assert_close(np.ones(2), np.zeros(2), name="h")


def test_assert_shape_names_the_array_and_hint():
    with pytest.raises(AssertionError, match=r"b: expected shape \(4,\), got \(1, 4\).*one entry"):
        assert_shape(np.zeros((1, 4)), (4,), name="b", hint="one entry per unit")


def test_forbid_blocks_a_class_under_any_alias_and_restores_it():
    from keras.layers import SimpleRNN as Renamed

    def student_forward(x):
        return Renamed(2)(x)

    with pytest.raises(ForbiddenCallError, match="rnn_forward: .*not call keras.layers.SimpleRNN"):
        with forbid("keras.layers.SimpleRNN", task="rnn_forward"):
            student_forward(np.zeros((1, 3, 2), "float32"))
    assert keras.layers.SimpleRNN(2)(np.zeros((1, 3, 2), "float32")).shape == (1, 2)


def test_forbid_blocks_a_function_imported_by_name_and_restores_it():
    namespace = {}
    exec("from tensorflow import clip_by_global_norm as cgn\n"
         "def student_clip(grads):\n    return cgn(grads, 1.0)", namespace)
    with pytest.raises(ForbiddenCallError, match="tensorflow.clip_by_global_norm"):
        testing.run_without(namespace["student_clip"], [tf.ones(2)],
                            forbidden=testing.CLIPPING_FORBIDDEN)
    assert namespace["cgn"] is tf.clip_by_global_norm
    assert float(namespace["student_clip"]([tf.ones(2)])[1]) == pytest.approx(2 ** 0.5)


def test_forbid_reports_a_call_the_student_caught():
    def sneaky():
        try:
            with tf.GradientTape():
                pass
        except Exception:
            return "fallback"

    with pytest.raises(ForbiddenCallError, match="the call was caught"):
        with forbid(*testing.BACKWARD_FORBIDDEN, task="rnn_backward"):
            sneaky()
    with tf.GradientTape():  # usable again
        pass


def test_forbid_lets_honest_code_run_and_skips_missing_targets():
    with forbid("no_such_package.thing", "keras.layers.NoSuchLayer",
                *testing.FORWARD_FORBIDDEN, task="rnn_step_forward") as attempts:
        result = np.tanh(np.ones((2, 3)) @ np.ones((3, 4)))
    assert result.shape == (2, 4) and attempts == []


def test_assert_not_used_finds_names_in_methods_and_base_classes():
    class Honest(keras.layers.Layer):
        def call(self, x):
            return keras.ops.tanh(x)

    class Wrapper(keras.layers.Layer):
        def call(self, x):
            return keras.layers.SimpleRNN(2)(x)

    class Subclass(keras.layers.SimpleRNNCell):
        pass

    assert_not_used(Honest, "SimpleRNN", "SimpleRNNCell")
    with pytest.raises(ForbiddenCallError, match="not use SimpleRNN"):
        assert_not_used(Wrapper, "SimpleRNN")
    with pytest.raises(ForbiddenCallError, match="SimpleRNNCell"):
        assert_not_used(Subclass, "SimpleRNNCell")


def test_quiet_notebook_sends_warnings_to_stdout(capsys, monkeypatch):
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    for name in ("tensorflow", "absl", "keras", "h5py", "matplotlib"):
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "handlers", list(logger.handlers))
        monkeypatch.setattr(logger, "propagate", logger.propagate)
        monkeypatch.setattr(logger, "level", logger.level)
    testing.quiet_notebook()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("careful", stacklevel=1)
    logging.getLogger("tensorflow").warning("tf noise")
    out, err = capsys.readouterr()
    assert "careful" in out and err == ""


def _numpy_rnn(x, h0, W_x, W_h, b):
    h, states = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_x + h @ W_h + b)
        states.append(h)
    return np.stack(states, axis=1)


def _problem(seed=0, B=2, T=4, D=3, H=5):
    r = np.random.default_rng(seed)
    return (r.normal(size=(B, T, D)), r.normal(size=(B, H)), r.normal(size=(D, H)),
            np.triu(r.normal(size=(H, H))) * 0.7, r.normal(size=H))


def test_keras_rnn_states_equal_the_equation():
    x, h0, W_x, W_h, b = _problem()
    assert_close(testing.keras_rnn_states(x, h0, W_x, W_h, b), _numpy_rnn(x, h0, W_x, W_h, b),
                 name="h", rtol=1e-12)


def test_tape_rnn_gradients_equal_finite_differences():
    x, h0, W_x, W_h, b = _problem(1)
    dh = np.random.default_rng(2).normal(size=(2, 4, 5))
    grads = testing.tape_rnn_gradients(dh, x, h0, W_x, W_h, b)
    params = [x, h0, W_x, W_h, b]
    for i, (name, grad) in enumerate(zip(["x", "h0", "W_x", "W_h", "b"], grads, strict=True)):
        def loss(value, i=i):
            args = list(params)
            args[i] = value
            return np.sum(dh * _numpy_rnn(*args))

        assert_close(grad, testing.numerical_gradient(loss, params[i].copy()), name="d" + name,
                     rtol=1e-6, atol=1e-9)


def test_tape_jacobian_norms_equal_the_one_step_jacobian():
    x, h0, W_x, W_h, b = _problem(3, T=2)
    h, norms = testing.tape_jacobian_norms(x, h0, W_x, W_h, b)
    assert_close(h, _numpy_rnn(x, h0, W_x, W_h, b), name="h", rtol=1e-12)
    jacobian = (1 - h[:, 1] ** 2)[:, :, None] * W_h.T  # dh_2/dh_1, (B, H, H)
    assert_close(norms, np.stack([np.ones(2), np.linalg.norm(jacobian, 2, axis=(1, 2))], 1),
                 name="norms", rtol=1e-10)


def test_numerical_gradient_needs_float64_and_restores_its_input():
    x = np.array([1.0, 2.0])
    assert_close(testing.numerical_gradient(lambda v: np.sum(v**3), x), 3 * x**2, name="g",
                 rtol=1e-8)
    assert_close(x, [1.0, 2.0], name="x", rtol=0, atol=0)
    with pytest.raises(ValueError, match="float64"):
        testing.numerical_gradient(lambda v: v.sum(), np.ones(2, "float32"))


def test_default_float_builds_in_float64_and_restores_the_notebook_s_type_after_an_error():
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy().name
    with pytest.raises(RuntimeError):
        with testing.default_float("float64"):
            model = keras.Sequential([keras.Input((None, 2)), keras.layers.SimpleRNN(3)])
            assert model(np.zeros((1, 1, 2))).dtype == "float64"
            keras.config.set_floatx("float16")  # the code under test may change it too
            raise RuntimeError
    assert (keras.config.floatx(), keras.config.dtype_policy().name) == (floatx, policy)
    assert keras.layers.Dense(1).dtype_policy.name == policy


def _tagger(input_dim, num_classes, units, readout_dtype=None, raises=False):
    inputs = keras.Input((None, input_dim))
    if raises:
        raise ValueError("no model today")
    states = keras.layers.SimpleRNN(units, return_sequences=True)(inputs)
    return keras.Model(inputs,
                       keras.layers.Dense(num_classes, activation="softmax",
                                          dtype=readout_dtype)(states))


def _check_tagger(build, **kwargs):
    return testing.assert_builds_in("float64", build, (), np.ones((1, 1, 2)), (1, 1, 3),
                                    task="build_tagger",
                                    sizes="B=1, T=1, D=2, C=3, H=4", probabilities=True, **kwargs)


def test_assert_builds_in_float64_passes_a_model_that_follows_keras_s_float_type():
    probs = _check_tagger(lambda: _tagger(2, 3, 4))
    assert probs.dtype == "float64" and keras.config.floatx() == "float32"


def test_assert_builds_in_float64_names_a_fixed_float_type_a_wrong_shape_and_a_crash():
    with pytest.raises(AssertionError,
                       match="build_tagger's output in float64 .*expected float64 values, "
                                             "got float32.*fixed float type"):
        _check_tagger(lambda: _tagger(2, 3, 4, readout_dtype="float32"))
    with pytest.raises(AssertionError, match=r"expected shape \(1, 1, 3\), got \(1, 1, 5\)"):
        _check_tagger(lambda: _tagger(2, 5, 4))
    with pytest.raises(AssertionError,
                       match="build_tagger: building or running the model in float64 "
                             r"\(B=1, T=1, D=2, C=3, H=4\) failed with ValueError: "
                             "no model today"):
        _check_tagger(lambda: _tagger(2, 3, 4, raises=True))
    with pytest.raises(ForbiddenCallError, match="build_tagger: .*keras.layers.SimpleRNN"):
        _check_tagger(lambda: _tagger(2, 3, 4), forbidden=["keras.layers.SimpleRNN"])
    assert keras.config.floatx() == "float32" and keras.config.dtype_policy().name == "float32"


def test_assert_builds_in_float64_catches_probabilities_that_are_not_or_only_to_float32_precision():
    with pytest.raises(AssertionError, match="add up to 1 only within .*float64's precision"):
        _check_tagger(lambda: keras.Sequential([keras.Input((None, 2)),
                                                keras.layers.Dense(3, "sigmoid")]))
    # 0.1 + 0.2 + 0.7 rounded to float32 and added in float64 misses 1 by about 7e-9.
    in_float32 = tf.cast(tf.constant([[[0.1, 0.2, 0.7]]], tf.float32), tf.float64)
    with pytest.raises(AssertionError, match="add up to 1 only within 7.5e-09.*lower float type"):
        _check_tagger(lambda: (lambda x: in_float32))
    _check_tagger(lambda: (lambda x: tf.constant([[[0.1, 0.2, 0.7]]], tf.float64)))
