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
import inspect
from typing import Any, Iterable, Iterator

from course_checks.policy import calls_forbidden_in
from rnn_course_student.checks import (  # noqa: F401  (re-exported for hidden tests)
    assert_close,
    assert_shape,
    assert_uses_simple_rnn,
    names_used,
    numpy_at_import,
    recurrent_layers,
)

# The forbidden-call guard is the kit's (rnn_course_student.forbidden): it must run in the
# student's kernel, which holds only the kit. In the judge a `forbid` block patches nothing and
# only records its targets, which every call to the student's code inside it carries along.
from rnn_course_student.forbidden import ForbiddenCallError, forbid  # noqa: F401
from rnn_course_student.notebook import quiet_notebook  # noqa: F401
from rnn_course_student.probe import probed
from rnn_course_student.probes_keras import building_in
from rnn_course_student.references import (  # noqa: F401
    keras_rnn_states,
    numerical_gradient,
    tape_jacobian_norms,
    tape_rnn_gradients,
)
from rnn_course_student.training import train_briefly  # noqa: F401

# What an exercise typically must not call, by topic. Test cells pass these to `forbid`; targets
# whose module is not installed are skipped, since nobody can call what is not there. They come
# from the course's one table (course_checks/policy.py), which the grader's static scan reads too.
FORWARD_FORBIDDEN = calls_forbidden_in("rnn1_forward")
BACKWARD_FORBIDDEN = calls_forbidden_in("rnn2_bptt")
CLIPPING_FORBIDDEN = calls_forbidden_in("rnn3_clipping")
CONFIGURATIONS_FORBIDDEN = calls_forbidden_in("rnn4_configurations")


# --- the float type a model is built in ---------------------------------------------------------


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
    with building_in(dtype):
        yield


def assert_dtype(actual: Any, dtype: str, name: str, hint: str | None = None) -> None:
    """Fails, saying which float type came back, unless `actual` (an array or tensor) is of
    `dtype`."""
    got = getattr(actual, "dtype", None)
    got = getattr(got, "name", got)  # a tf.DType names itself in .name
    if str(got) != dtype:
        message = f"{name}: expected {dtype} values, got {got}."
        if hint:
            message += f" Usual cause: {hint}"
        raise AssertionError(message)


# The kit probe that builds a model in the student's kernel and reports its outputs (see
# rnn_course_student.probes_keras); here, outside a judge, it runs in this process.
MODEL_REPORT = "rnn_course_student.probes_keras:model_report"


def model_report(builder, args: tuple, inputs: list, *, kwargs: dict | None = None,
                 dtype: str | None = None) -> dict:
    """What `builder(*args, **kwargs)` built, run on each of `inputs` (plain data, see
    `rnn_course_student.probes_keras.model_report`): in the student's kernel when `builder` is a
    judge's proxy, here otherwise.

    Example:
        report = model_report(build_many_to_one, (6, 4), [np.zeros((1, 7, 6), "float32")],
                              kwargs={"units": 3})
        assert_shape(report["outputs"][0], (1, 4), name="output")
    """
    return probed(builder, MODEL_REPORT)(tuple(args), dict(kwargs or {}), list(inputs), dtype)


def assert_builds_in(dtype: str, builder, args: tuple, inputs: Any, shape: tuple, *, task: str,
                     sizes: str, kwargs: dict | None = None, forbidden: Iterable[str] = (),
                     probabilities: bool = False) -> Any:
    """Builds a model with `builder(*args, **kwargs)` (forbidden calls blocked) and runs it on
    `inputs` while Keras builds in `dtype`; fails with a plain message unless that works and the
    output has `shape` and `dtype` (and, with `probabilities`, adds up to 1 over its last axis to
    that type's precision). Returns the output.

    Args:
        dtype: the float type, e.g. `"float64"`; `inputs` should be of it.
        builder: the student's builder (a judge's proxy, or the function itself).
        args, kwargs: what it is called with.
        inputs: what the model is called on.
        shape: the output's expected shape.
        task: the builder's name, for the messages.
        sizes: the sizes in words, for the messages (`"B=1, T=1, D=2, H=5"`).
        forbidden: the calls the builder must not make (see `forbid`).
        probabilities: whether the output is a softmax over its last axis.

    Example:
        assert_builds_in("float64", build_many_to_one, (2, 3), np.zeros((1, 1, 2)), (1, 3),
                         kwargs={"units": 5}, task="build_many_to_one",
                         sizes="B=1, T=1, D=2, H=5", forbidden=CONFIGURATIONS_FORBIDDEN)
    """
    try:
        with forbid(*forbidden, task=task):
            output = model_report(builder, args, [inputs], kwargs=kwargs, dtype=dtype)["outputs"][0]
    except AssertionError:
        raise
    except Exception as error:  # the student's model, whatever it raises, fails this check plainly
        detail = f"{type(error).__name__}: {error}"
        raise AssertionError(
            f"{task}: building or running the model in {dtype} ({sizes}) failed with "
            f"{detail[:300]}. "
            f"Usual cause: a value or layer fixed to another float type, where {dtype} "
            "must flow through.") from None
    name = f"{task}'s output in {dtype} for {sizes}"
    assert_shape(output, shape, name=name)
    assert_dtype(output, dtype, name=name,
                 hint="a layer or an input given a fixed float type instead of Keras's "
                      "default one.")
    if probabilities:
        # A sum of a few probabilities is 1 to within a few roundings of the type; a thousand
        # is ample.
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
    """Calls `func(*args, **kwargs)` with `forbidden` blocked (see `forbid`) and returns its
    result."""
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
