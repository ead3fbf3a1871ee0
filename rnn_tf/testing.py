"""Helpers for the course's test cells: assertions that explain a failure to a student, and a
guard that stops an exercise from being answered by calling the very thing it asks for.

Used by every assignment in `course/source` (see `course/README.md`):

    from rnn_tf.testing import assert_close, assert_shape, forbid

    with forbid("keras.layers.SimpleRNN", "rnn_tf.bptt.rnn_forward", task="rnn_forward"):
        h, cache = rnn_forward(x, h0, W_x, W_h, b)
    assert_close(h, h_keras, name="h", hint="is the bias added at every step?")
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import logging
import sys
import textwrap
import warnings
from typing import Any, Iterable, Iterator

import numpy as np

# Bound once at import (the locked set-up cell imports this module before any student code), so a
# submission that later replaces np.allclose or np.testing does not change what "close" means here.
_asarray = np.asarray
_abs = np.abs
_isfinite = np.isfinite
_isnan = np.isnan
_argmax = np.argmax
_unravel_index = np.unravel_index
_all = np.all
_any = np.any
_float64 = np.float64

# What an exercise typically must not call, by topic. Test cells pass these to `forbid`; targets
# whose module is not installed are skipped, since nobody can call what is not there.
FORWARD_FORBIDDEN = (
    "keras.layers.SimpleRNN",
    "keras.layers.SimpleRNNCell",
    "keras.layers.GRU",
    "keras.layers.LSTM",
    "rnn_tf.bptt.rnn_step_forward",
    "rnn_tf.bptt.rnn_forward",
    "rnn_tf.cell.SimpleRNNCell",
    "rnn_tf.layer.SimpleRNN",
    "rnn_tf.fast_path.simple_rnn",
    "rnn_tf.testing.keras_rnn_states",
)
BACKWARD_FORBIDDEN = (
    "tensorflow.GradientTape",
    "tensorflow.gradients",
    "tensorflow.autodiff.ForwardAccumulator",
    "rnn_tf.bptt.rnn_step_backward",
    "rnn_tf.bptt.rnn_backward",
    "rnn_tf.testing.tape_rnn_gradients",
    "rnn_tf.testing.numerical_gradient",
    "rnn_tf.testing.tape_jacobian_norms",
    "rnn_tf.gradients.step_jacobians",
    "rnn_tf.gradients.jacobian_products",
    "rnn_tf.gradients.jacobian_norms_by_distance",
    "rnn_tf.gradients.layer_jacobian_norms_by_distance",
)
CLIPPING_FORBIDDEN = (
    "tensorflow.clip_by_global_norm",
    "tensorflow.clip_by_norm",
    "tensorflow.linalg.global_norm",
    "rnn_tf.clipping.clip_by_global_norm",
    "rnn_tf.clipping.clip_by_norm",
)


class ForbiddenCallError(AssertionError):
    """An exercise called the library function it was asked to write (an AssertionError, so
    nbgrader scores the test cell 0 like any other failed check)."""


# --- assertions ---------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    return f"{type(value).__name__} with shape {getattr(value, 'shape', None)}"


def _as_array(value: Any, name: str) -> np.ndarray:
    if value is None:
        raise AssertionError(f"{name}: expected an array, got None. Usual cause: a missing `return`.")
    try:
        return _asarray(value)
    except Exception as error:  # anything that will not become an array is a wrong answer
        raise AssertionError(f"{name}: expected an array, got {_describe(value)} ({error}).") from None


def assert_shape(actual: Any, expected_shape: tuple, name: str, hint: str | None = None) -> None:
    """Fails, saying what was expected and what came back, unless `actual.shape == expected_shape`.

    Args:
        actual: the student's array (NumPy array or tf tensor).
        expected_shape: the shape it must have.
        name: what the array is, as the student knows it (`"h"`, `"dW_h"`).
        hint: the mistake that usually produces a wrong shape.
    """
    shape = tuple(_as_array(actual, name).shape)
    if shape != tuple(expected_shape):
        message = f"{name}: expected shape {tuple(expected_shape)}, got {shape}."
        if hint:
            message += f" Usual cause: {hint}"
        raise AssertionError(message)


def assert_close(
    actual: Any,
    expected: Any,
    name: str,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    hint: str | None = None,
    reference: str = "the reference",
) -> None:
    """Fails unless `actual` matches `expected` elementwise, |actual - expected| <= atol + rtol *
    |expected|, with a message giving the shapes, the worst element and the usual cause.

    Args:
        actual: what the student's code returned.
        expected: the trusted value (from TensorFlow/Keras or finite differences).
        name: what the value is (`"dW_h"`).
        rtol, atol: the tolerance, stated in the message.
        hint: the mistake that usually produces this mismatch.
        reference: where `expected` came from, for the message (`"tf.GradientTape"`).

    Example:
        assert_close(dW_h, tape_dW_h, name="dW_h", reference="tf.GradientTape",
                     hint="matches only the last step: are you accumulating over t?")
    """
    got = _as_array(actual, name)
    want = _as_array(expected, "expected " + name)
    assert_shape(got, want.shape, name, hint)
    if not np.issubdtype(got.dtype, np.number):
        raise AssertionError(f"{name}: expected numbers, got an array of dtype {got.dtype}.")
    got64, want64 = got.astype(_float64), want.astype(_float64)
    if not _all(_isfinite(got64)) and _all(_isfinite(want64)):
        where = tuple(int(i) for i in np.argwhere(~_isfinite(got64))[0])
        raise AssertionError(
            f"{name}: got a non-finite value ({got64[where]}) at index {where}, expected "
            f"{want64[where]!r}. Usual cause: an overflow or a division by zero."
            + (f" Also check: {hint}" if hint else "")
        )
    error = _abs(got64 - want64)
    allowed = atol + rtol * _abs(want64)
    bad = error > allowed
    if _any(bad) or _any(_isnan(error) & ~_isnan(want64)):
        worst = _unravel_index(_argmax(_asarray(error - allowed)), error.shape) if error.size else ()
        worst = tuple(int(i) for i in worst)
        message = (
            f"{name} does not match {reference}: {int(bad.sum())} of {bad.size} values differ; "
            f"worst at index {worst}: expected {want64[worst]:.6g}, got {got64[worst]:.6g} "
            f"(tolerance rtol={rtol:g}, atol={atol:g})."
        )
        if hint:
            message += f" Usual cause: {hint}"
        raise AssertionError(message)


# --- trusted references, computed by TensorFlow/Keras or by finite differences ---------------------


def keras_rnn_states(x, h0, W_x, W_h, b) -> np.ndarray:
    """Every hidden state h_1 ... h_T, (B, T, H), computed by `keras.layers.SimpleRNN` in float64
    with the given row-layout weights (W_x is Keras's `kernel`, W_h its `recurrent_kernel`)."""
    import keras

    x, h0 = _asarray(x, dtype=_float64), _asarray(h0, dtype=_float64)  # (B, T, D), (B, H)
    layer = keras.layers.SimpleRNN(h0.shape[1], return_sequences=True, dtype="float64")
    layer.build((None,) + x.shape[1:])
    layer.set_weights([_asarray(W_x, dtype=_float64), _asarray(W_h, dtype=_float64),
                       _asarray(b, dtype=_float64)])
    return _asarray(layer(x, initial_state=[h0]))  # (B, T, H)


def tape_rnn_gradients(dh, x, h0, W_x, W_h, b) -> tuple[np.ndarray, ...]:
    """(dx, dh0, dW_x, dW_h, db) of the loss sum(dh * h), where h (B, T, H) comes from
    `keras.layers.SimpleRNN` in float64 and the gradients from `tf.GradientTape`."""
    import keras
    import tensorflow as tf

    x = tf.constant(_asarray(x, dtype=_float64))  # (B, T, D)
    h0 = tf.constant(_asarray(h0, dtype=_float64))  # (B, H)
    layer = keras.layers.SimpleRNN(h0.shape[1], return_sequences=True, dtype="float64")
    layer.build((None,) + tuple(x.shape[1:]))
    layer.set_weights([_asarray(W_x, dtype=_float64), _asarray(W_h, dtype=_float64),
                       _asarray(b, dtype=_float64)])
    with tf.GradientTape() as tape:
        tape.watch([x, h0])
        h = layer(x, initial_state=[h0])  # (B, T, H)
        loss = tf.reduce_sum(tf.constant(_asarray(dh, dtype=_float64)) * h)
    grads = tape.gradient(loss, [x, h0, *layer.trainable_weights])
    return tuple(_asarray(g) for g in grads)


def dW_h_mistake(dW_h, dh, x, h0, W_x, W_h, b) -> str | None:
    """Names the usual BPTT mistake that a wrong `dW_h` shows, or None.

    The true total gradients dL/dh_t (L = sum(dh * h)) come from `tf.GradientTape` on the
    recurrence run in TensorFlow; from them each step's share h_{t-1}^T dz_t. A dW_h equal to one
    share was not accumulated over t; one equal to the sum of shares built from the direct
    gradients dh alone ignores the gradient flowing back through time.
    """
    import tensorflow as tf

    x, dh = _asarray(x, dtype=_float64), _asarray(dh, dtype=_float64)  # (B, T, D), (B, T, H)
    h_prev = tf.constant(_asarray(h0, dtype=_float64))  # (B, H)
    W_x, W_h, b = (tf.constant(_asarray(a, dtype=_float64)) for a in (W_x, W_h, b))
    states = []
    with tf.GradientTape() as tape:
        tape.watch(h_prev)  # so that the tape records every state computed from it
        for t in range(x.shape[1]):
            h_prev = tf.tanh(x[:, t] @ W_x + h_prev @ W_h + b)  # (B, H)
            states.append(h_prev)
        loss = tf.reduce_sum(tf.stack(states, axis=1) * dh)
    totals = tf.stack(tape.gradient(loss, states)).numpy()  # (T, B, H): dL/dh_t, all paths
    h = tf.stack(states).numpy()  # (T, B, H)
    previous = np.concatenate([_asarray(h0, dtype=_float64)[None], h[:-1]])  # (T, B, H)
    shares = np.einsum("tbi,tbj->tij", previous, totals * (1 - h**2))  # (T, H, H)
    direct = np.einsum("tbi,tbj->ij", previous, dh.transpose(1, 0, 2) * (1 - h**2))  # (H, H)
    got = _asarray(dW_h, dtype=_float64)
    if got.shape != direct.shape:
        return None

    def same(a, c):
        return bool(_all(_abs(a - c) <= 1e-8 + 1e-6 * _abs(c)))

    for t, share in enumerate(shares):
        if len(shares) > 1 and same(got, share):
            return (f"dW_h matches only time step {t + 1} of {len(shares)}: are you accumulating "
                    "over t (dW_h += ...)?")
    if len(shares) > 1 and same(got, direct):
        return ("dW_h ignores the gradient flowing back through time: add the dh_prev of step "
                "t+1 to dh[:, t] before taking step t's share.")
    return None


def tape_jacobian_norms(x, h0, W_x, W_h, b) -> tuple[np.ndarray, np.ndarray]:
    """(h, norms) for the tanh recurrence run in TensorFlow (float64): the states h (B, T, H) and
    norms (B, T) with norms[:, d] = ||dh_T/dh_{T-d}||_2 (spectral norm), each Jacobian taken by
    `tf.GradientTape.batch_jacobian` (d = 0 is the identity, norm 1)."""
    import tensorflow as tf

    x = tf.constant(_asarray(x, dtype=_float64))  # (B, T, D)
    h_prev = tf.constant(_asarray(h0, dtype=_float64))  # (B, H)
    W_x, W_h, b = (tf.constant(_asarray(a, dtype=_float64)) for a in (W_x, W_h, b))
    states = []
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(h_prev)
        for t in range(x.shape[1]):
            h_prev = tf.tanh(x[:, t] @ W_x + h_prev @ W_h + b)  # (B, H)
            states.append(h_prev)
    norms = [np.ones(x.shape[0])]
    for d in range(1, len(states)):
        jacobian = tape.batch_jacobian(states[-1], states[-1 - d], experimental_use_pfor=False)
        norms.append(np.linalg.norm(jacobian.numpy(), ord=2, axis=(1, 2)))  # (B,)
    del tape
    h = tf.stack(states, axis=1).numpy()  # (B, T, H)
    return h, np.stack(norms, axis=1)  # (B, T)


def numerical_gradient(f, x, eps: float = 1e-6) -> np.ndarray:
    """Central differences (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) of a scalar function f
    at every entry of the float64 array x; x is restored afterwards. Error O(eps^2)."""
    x = _asarray(x)
    if x.dtype != _float64:
        raise ValueError(f"numerical_gradient needs a float64 array, got dtype {x.dtype}.")
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        saved = x[index]
        x[index] = saved + eps
        f_plus = float(f(x))
        x[index] = saved - eps
        f_minus = float(f(x))
        x[index] = saved
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad


# --- the forbidden-call guard --------------------------------------------------------------------


def _resolve(target: str) -> tuple[Any, str, Any] | None:
    """`"keras.layers.SimpleRNN"` -> (owner module, attribute name, object); None if absent."""
    parts = target.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            owner: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:-1]:
                owner = getattr(owner, attribute)
            return owner, parts[-1], getattr(owner, parts[-1])
        except AttributeError:
            return None
    return None


def _namespaces(roots: set[str], extra: Iterable[dict]) -> list[dict]:
    """The dicts through which a forbidden object could be reached: every loaded module of the
    target's packages, the notebook's own namespace and the functions under test's globals."""
    spaces = [vars(m) for name, m in list(sys.modules.items())
              if m is not None and name.split(".")[0] in roots]
    main = sys.modules.get("__main__")
    if main is not None:
        spaces.append(vars(main))
    spaces.extend(extra)
    return spaces


@contextlib.contextmanager
def forbid(*targets: str, task: str, namespaces: Iterable[dict] = ()) -> Iterator[list[str]]:
    """Inside the block, calling any of `targets` raises ForbiddenCallError naming `task`.

    Classes are blocked at `__init__` (so subclasses and every alias are caught); functions are
    replaced wherever a loaded module, the notebook or `namespaces` binds them. A call that the
    student's code catches and hides is still reported when the block ends.

    Args:
        *targets: dotted names, e.g. `"tensorflow.GradientTape"`, `"rnn_tf.bptt.rnn_backward"`.
        task: what the student was asked to write, for the message.
        namespaces: further dicts to patch, e.g. `student_function.__globals__`.

    Yields:
        The list of forbidden names called so far.

    Example:
        with forbid(*BACKWARD_FORBIDDEN, task="rnn_backward"):
            grads = rnn_backward(dh, x, h0, h, W_x, W_h)
    """
    attempts: list[str] = []

    def make_raiser(label: str):
        def raiser(*args, **kwargs):
            attempts.append(label)
            raise ForbiddenCallError(
                f"{task}: you were asked to implement this yourself, not call {label}."
            )
        return raiser

    undo: list[tuple[Any, str, Any, bool]] = []  # (owner, attribute, old value, was own attribute)
    try:
        resolved = [(t, _resolve(t)) for t in targets]
        resolved = [(t, r) for t, r in resolved if r is not None]
        roots = {t.split(".")[0] for t, _ in resolved}
        roots |= {getattr(obj, "__module__", "").split(".")[0] for _, (_, _, obj) in resolved}
        roots.discard("")
        spaces = _namespaces(roots, namespaces)
        for label, (_owner, _attribute, obj) in resolved:
            raiser = make_raiser(label)
            if inspect.isclass(obj):
                undo.append((obj, "__init__", obj.__dict__.get("__init__"), "__init__" in obj.__dict__))
                obj.__init__ = lambda self, *a, _r=raiser, **k: _r()
                continue
            for space in spaces:
                for key, value in list(space.items()):
                    if value is obj:
                        undo.append((space, key, value, True))
                        space[key] = raiser
        yield attempts
    finally:
        for owner, attribute, old, was_own in reversed(undo):
            if isinstance(owner, dict):
                owner[attribute] = old
            elif was_own:
                setattr(owner, attribute, old)
            else:
                delattr(owner, attribute)
    if attempts:
        raise ForbiddenCallError(
            f"{task}: you were asked to implement this yourself, not call {attempts[0]} "
            "(the call was caught inside your code, but it was made)."
        )


def run_without(func, *args, forbidden: Iterable[str], task: str | None = None, **kwargs):
    """Calls `func(*args, **kwargs)` with `forbidden` blocked (see `forbid`) and returns its result."""
    task = task or getattr(func, "__name__", "this exercise")
    with forbid(*forbidden, task=task, namespaces=[getattr(func, "__globals__", {})]):
        return func(*args, **kwargs)


def _sources(obj: Any) -> list[str]:
    """Source of a function, or of every method of a class (inspect cannot find the source of a
    class defined in a notebook, but it can find each of its functions)."""
    if inspect.isclass(obj):
        functions = [v for v in vars(obj).values() if inspect.isfunction(v)]
        functions += [v.fget for v in vars(obj).values() if isinstance(v, property) and v.fget]
    else:
        functions = [obj]
    sources = []
    for function in functions:
        try:
            sources.append(textwrap.dedent(inspect.getsource(function)))
        except (OSError, TypeError):
            continue
    return sources


def names_used(obj: Any) -> set[str]:
    """Every name and attribute a function's (or a class's methods') source refers to."""
    used: set[str] = set()
    for source in _sources(obj):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(node, ast.Attribute):
                used.add(node.attr)
    return used


def assert_not_used(obj: Any, *names: str, task: str | None = None) -> None:
    """Fails if the source of `obj` (a function or class) mentions any of `names`, e.g.
    `assert_not_used(MyCell, "SimpleRNN", "SimpleRNNCell")`; a class's bases are checked too."""
    task = task or getattr(obj, "__name__", "this exercise")
    used = names_used(obj)
    if inspect.isclass(obj):
        used |= {base.__name__ for base in inspect.getmro(obj)[1:]}
    found = sorted(set(names) & used)
    if found:
        raise ForbiddenCallError(
            f"{task}: you were asked to implement this yourself, not use {', '.join(found)}."
        )


# --- keeping test cells' stderr empty --------------------------------------------------------------


def quiet_notebook() -> None:
    """Sends Python warnings and TensorFlow/absl log records to stdout: nbgrader scores any test
    cell that writes to stderr as 0, and a deprecation warning is not a wrong answer."""

    def show_on_stdout(message, category, filename, lineno, file=None, line=None):
        print(warnings.formatwarning(message, category, filename, lineno, line).rstrip(),
              file=sys.stdout)

    warnings.showwarning = show_on_stdout
    handler = logging.StreamHandler(sys.stdout)
    for name in ("tensorflow", "absl", "keras", "h5py", "matplotlib"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        logger.handlers[:] = [handler]
        logger.propagate = False
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
        absl_logging.set_stderrthreshold("fatal")
    except ImportError:  # absl comes with TensorFlow; without it there is nothing to quiet
        pass


# --- added by the course-B helper (assignments 3 and 4): configurations and short training ------

# The library's own answers to assignment 4: a student's builder must not call them.
CONFIGURATIONS_FORBIDDEN = (
    "rnn_tf.configurations.many_to_one",
    "rnn_tf.configurations.one_to_many",
    "rnn_tf.configurations.many_to_many",
    "rnn_tf.configurations.bidirectional_tagger",
    "rnn_tf.configurations.encoder_decoder",
    "rnn_tf.configurations.stacked_rnn",
)


def recurrent_layers(model) -> list:
    """Every recurrent layer of a Keras model, looking inside `Bidirectional` wrappers and
    nested models: the layers a configuration test inspects."""
    import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            found += [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, keras.layers.RNN):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found += recurrent_layers(layer)
    return found


def assert_uses_rnn_tf_simple_rnn(model, task: str, count: int | None = None) -> None:
    """Fails unless every recurrent layer of `model` is an `rnn_tf.SimpleRNN` (and, if `count`
    is given, there are exactly that many, a Bidirectional wrapper counting as two)."""
    from rnn_tf.layer import SimpleRNN

    layers = recurrent_layers(model)
    if not layers:
        raise AssertionError(f"{task}: expected a model with an rnn_tf.SimpleRNN layer, found no "
                             "recurrent layer. Usual cause: a Dense-only model.")
    wrong = [type(layer).__module__ + "." + type(layer).__name__ for layer in layers
             if not isinstance(layer, SimpleRNN)]
    if wrong:
        raise AssertionError(f"{task}: expected rnn_tf.SimpleRNN for every recurrent layer, got "
                             f"{wrong}. Usual cause: keras.layers.SimpleRNN instead of rnn_tf.SimpleRNN.")
    if count is not None and len(layers) != count:
        raise AssertionError(f"{task}: expected {count} recurrent layer(s) (Bidirectional counts as "
                             f"two), got {len(layers)}.")


def train_briefly(model, x, y, *, epochs: int, loss: str = "sparse_categorical_crossentropy",
                  learning_rate: float = 0.02, batch_size: int = 32, seed: int = 0):
    """Compiles `model` with Adam(learning_rate) and `loss` and fits it for `epochs` epochs,
    silently and seeded: the fixed, small budget a configuration test states. Returns the model.

    Seed Keras (`keras.utils.set_random_seed`) before building the model as well, so that the
    initial weights are reproducible too."""
    import keras

    keras.utils.set_random_seed(seed)
    metrics = [] if loss == "mse" else ["accuracy"]
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=metrics)
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True)
    return model
