"""The grader's side of the course's test cells: the guard that stops an exercise from being
answered by calling the very thing it asks for. The diagnoses that name a student's mistake are
in `course_checks.mistakes`.

The hidden tests import from here; the visible ones use only the student kit
(`rnn_course_student.checks`, `.references`, ...), whose helpers are re-exported below so that a
hidden test finds everything in one place:

    from course_checks.testing import FORWARD_FORBIDDEN, forbid

    with forbid(*FORWARD_FORBIDDEN, task="rnn_forward"):
        h, cache = rnn_forward(x, h0, W_x, W_h, b)
    assert_close(h, h_keras, name="h", hint="is the bias added at every step?")
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import sys
from typing import Any, Iterable, Iterator

from rnn_course_student.checks import (  # noqa: F401  (re-exported for hidden tests)
    assert_close,
    assert_shape,
    assert_uses_simple_rnn,
    names_used,
    numpy_at_import,
    recurrent_layers,
)
from rnn_course_student.notebook import quiet_notebook  # noqa: F401
from rnn_course_student.references import (  # noqa: F401
    keras_rnn_states,
    numerical_gradient,
    tape_jacobian_norms,
    tape_rnn_gradients,
)
from rnn_course_student.training import train_briefly  # noqa: F401

# What an exercise typically must not call, by topic. Test cells pass these to `forbid`; targets
# whose module is not installed are skipped, since nobody can call what is not there. They come
# from the grader's one table (autograder/policy.py), which its static scan of answers reads too.
from autograder.policy import calls_forbidden_in  # noqa: E402

FORWARD_FORBIDDEN = calls_forbidden_in("rnn1_forward")
BACKWARD_FORBIDDEN = calls_forbidden_in("rnn2_bptt")
CLIPPING_FORBIDDEN = calls_forbidden_in("rnn3_clipping")
CONFIGURATIONS_FORBIDDEN = calls_forbidden_in("rnn4_configurations")


class ForbiddenCallError(AssertionError):
    """An exercise called the library function it was asked to write (an AssertionError, so
    nbgrader scores the test cell 0 like any other failed check)."""


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


# --- the float type a model is built in -------------------------------------------------------------


# The gap between 1 and the next number of each float type (numpy.finfo's eps).
_EPSILON = {"bfloat16": 2.0**-7, "float16": 2.0**-10, "float32": 2.0**-23, "float64": 2.0**-52}


@contextlib.contextmanager
def default_float(dtype: str) -> Iterator[None]:
    """Inside the block, Keras builds inputs, layers and weights in `dtype` (e.g. `"float64"`);
    afterwards the notebook's own float type and dtype policy are back, whatever the block raised
    or the code under test set. Keras keeps the two apart: `keras.Input` follows the float type,
    a layer the dtype policy, so both change.

    Example:
        with default_float("float64"):
            model = build_many_to_one(2, 3, units=5)
            probs = model(np.zeros((1, 1, 2), "float64"))
        assert_dtype(probs, "float64", name="output")
    """
    import keras

    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    try:
        keras.config.set_floatx(dtype)
        keras.config.set_dtype_policy(dtype)
        yield
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


def assert_dtype(actual: Any, dtype: str, name: str, hint: str | None = None) -> None:
    """Fails, saying which float type came back, unless `actual` (an array or tensor) is of `dtype`."""
    got = getattr(actual, "dtype", None)
    got = getattr(got, "name", got)  # a tf.DType names itself in .name
    if str(got) != dtype:
        message = f"{name}: expected {dtype} values, got {got}."
        if hint:
            message += f" Usual cause: {hint}"
        raise AssertionError(message)


def assert_builds_in(dtype: str, build, inputs: Any, shape: tuple, *, task: str, sizes: str,
                     forbidden: Iterable[str] = (), probabilities: bool = False) -> Any:
    """Builds a model with `build()` (forbidden calls blocked) and runs it on `inputs` while Keras
    builds in `dtype`; fails with a plain message unless that works and the output has `shape`
    and `dtype` (and, with `probabilities`, adds up to 1 over its last axis to that type's
    precision). Returns the output.

    Args:
        dtype: the float type, e.g. `"float64"`; `inputs` should be of it.
        build: a function of no arguments that calls the student's builder.
        inputs: what the model is called on.
        shape: the output's expected shape.
        task: the builder's name, for the messages.
        sizes: the sizes in words, for the messages (`"B=1, T=1, D=2, H=5"`).
        forbidden: the calls the builder must not make (see `forbid`).
        probabilities: whether the output is a softmax over its last axis.

    Example:
        assert_builds_in("float64", lambda: build_many_to_one(2, 3, units=5),
                         np.zeros((1, 1, 2)), (1, 3), task="build_many_to_one",
                         sizes="B=1, T=1, D=2, H=5", forbidden=CONFIGURATIONS_FORBIDDEN)
    """
    with default_float(dtype):
        try:
            with forbid(*forbidden, task=task):
                model = build()
            output = model(inputs)
        except AssertionError:
            raise
        except Exception as error:  # the student's model, whatever it raises, fails this check plainly
            detail = f"{type(error).__name__}: {error}"
            raise AssertionError(
                f"{task}: building or running the model in {dtype} ({sizes}) failed with {detail[:300]}. "
                f"Usual cause: a value or layer fixed to another float type, where {dtype} "
                "must flow through.") from None
    name = f"{task}'s output in {dtype} for {sizes}"
    assert_shape(output, shape, name=name)
    assert_dtype(output, dtype, name=name,
                 hint="a layer or an input given a fixed float type instead of Keras's default one.")
    if probabilities:
        # A sum of a few probabilities is 1 to within a few roundings of the type; a thousand is ample.
        tolerance = 1e3 * _EPSILON[dtype]
        sums = numpy_at_import.asarray(output, dtype=numpy_at_import.float64).sum(axis=-1)
        worst = float(numpy_at_import.abs(sums - 1.0).max()) if sums.size else 0.0
        if not worst <= tolerance:
            raise AssertionError(
                f"{name}: the probabilities of an output add up to 1 only within {worst:.1e}, not "
                f"within {dtype}'s precision ({tolerance:.0e}). Usual cause: a read-out without a "
                f"softmax, or one computed in a lower float type than {dtype}.")
    return output


def run_without(func, *args, forbidden: Iterable[str], task: str | None = None, **kwargs):
    """Calls `func(*args, **kwargs)` with `forbidden` blocked (see `forbid`) and returns its result."""
    task = task or getattr(func, "__name__", "this exercise")
    with forbid(*forbidden, task=task, namespaces=[getattr(func, "__globals__", {})]):
        return func(*args, **kwargs)


def _names_in(source: str) -> set[str]:
    """Every name and attribute a piece of source refers to (nothing when it does not parse)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return ({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            | {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)})


def assert_not_used(obj: Any, *names: str, task: str | None = None) -> None:
    """Fails if the source of `obj` (a function or class) mentions any of `names`, e.g.
    `assert_not_used(MyCell, "SimpleRNN", "SimpleRNNCell")`; a class's bases are checked too.
    In the judge, `obj` is a proxy of the answer: the source read is the whole answer cell the
    student submitted, which also holds the bases the cell defines."""
    task = task or getattr(obj, "__name__", "this exercise")
    cell = getattr(obj, "__judge_source__", None)
    used = _names_in(cell) if cell is not None else names_used(obj)
    if inspect.isclass(obj):
        used |= {base.__name__ for base in inspect.getmro(obj)[1:]}
    found = sorted(set(names) & used)
    if found:
        raise ForbiddenCallError(
            f"{task}: you were asked to implement this yourself, not use {', '.join(found)}."
        )
