"""The one door through which the grader's judge reaches a student's answers: plain data only.

The judge (autograder/judge/, in the grading process) never runs student code and never sees a
live object of the kernel. It sends a request (JSON) and the kernel answers by running `serve`:
look up an answer by name in the notebook, call it (or a fixed, public probe of this kit on it)
with the decoded arguments inside the forbidden-call guard, and give back the result encoded.

Wire format, the same both ways: JSON, with `None`, `bool`, `int`, `float` and `str` as
themselves (non-finite floats tagged), tuples, lists and dicts tagged and nested, and NumPy
arrays and scalars of numbers or booleans as base64 of `np.save` bytes, read back with
`np.load(allow_pickle=False)`. Anything else is refused: never pickle, never an object.

    reply = serve('{"op": "call", "name": "rnn_step_forward", "args": ...}')

Probes for answers that are Keras objects are plain functions of kit modules, `probe(answer,
*args, **kwargs) -> plain data`; `probed(answer, "rnn_course_student.probe_cells:rnn_outputs")`
runs one, through the judge when `answer` is one of its proxies, locally otherwise.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import importlib
import io
import json
import math
import sys
from typing import Any, Callable

import numpy as np

MAX_BYTES = 32 * 1024 * 1024  # one message, either way: far above any check's arrays
MAX_DEPTH = 32  # nesting of tuples, lists and dicts
KIT = "rnn_course_student"
# The kit's trusted versions of earlier exercises, by the exercise's name: what the kernel binds
# when a check judges a later function with a right earlier one (the catalogue's own right
# functions never reach the kernel).
TRUSTED_STAND_INS = {
    "rnn_step_forward": "rnn_course_student.checks:trusted_step_forward",
    "rnn_step_backward": "rnn_course_student.checks:trusted_step_backward",
    "clip_by_global_norm": "rnn_course_student.checks:trusted_clip_by_global_norm",
}
# Bound at import, before any student code runs: what encoding relies on.
_asarray, _ndarray, _generic, _save, _load = np.asarray, np.ndarray, np.generic, np.save, np.load
_dumps, _loads = json.dumps, json.loads
_b64encode, _b64decode = base64.b64encode, base64.b64decode


class ChannelError(ValueError):
    """A value that cannot cross the channel (not plain data, too big, too deep, malformed)."""


class NotData(ChannelError):
    """An object that is not plain data (a model, a function, an array of objects...)."""


@dataclasses.dataclass(frozen=True)
class Opaque:
    """What crosses for a part of a result that is not data (a cache holding a model, say): its
    type's name only, so the parts that are data can still be checked."""

    kind: str

    def __repr__(self) -> str:
        return f"<a {self.kind}: not data>"


# --- plain data <-> JSON text -------------------------------------------------------------------


def _array_text(array) -> str:
    buffer = io.BytesIO()
    _save(buffer, array, allow_pickle=False)
    return _b64encode(buffer.getvalue()).decode("ascii")


def _to_wire(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ChannelError(f"nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if value is None or kind is bool or kind is str or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else {"f": repr(value)}
    if kind is tuple or kind is list:
        return {"t" if kind is tuple else "l": [_to_wire(v, depth + 1) for v in value]}
    if kind is dict:
        return {"d": [[_to_wire(k, depth + 1), _to_wire(v, depth + 1)] for k, v in value.items()]}
    if kind is Opaque:
        return {"o": value.kind}
    if kind is _ndarray or isinstance(value, _generic):
        array = _asarray(value)
        if type(array) is not _ndarray or array.dtype.kind not in "biufc":
            raise ChannelError(f"an array of {array.dtype} is not numbers")
        return {"a" if kind is _ndarray else "s": _array_text(array)}
    raise ChannelError(f"a {kind.__name__} is not plain data")


def encode(value: Any) -> str:
    """`value` (plain data only: see the module's docstring) as JSON text, or ChannelError."""
    try:
        text = _dumps(_to_wire(value, 0), allow_nan=False)
    except RecursionError:
        raise ChannelError("nested too deeply") from None
    if len(text) > MAX_BYTES:
        raise ChannelError(f"{len(text)} bytes, more than the channel's {MAX_BYTES}")
    return text


def _from_wire(item: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ChannelError(f"nested more than {MAX_DEPTH} levels deep")
    if item is None or type(item) in (bool, str, int, float):
        return item
    if type(item) is not dict or len(item) != 1:
        raise ChannelError(f"malformed item {str(item)[:60]!r}")
    (tag, body), = item.items()
    if tag == "f" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag in ("t", "l") and type(body) is list:
        values = [_from_wire(v, depth + 1) for v in body]
        return tuple(values) if tag == "t" else values
    if tag == "d" and type(body) is list:
        out = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2:
                raise ChannelError("malformed dict entry")
            out[_from_wire(pair[0], depth + 1)] = _from_wire(pair[1], depth + 1)
        return out
    if tag == "o" and type(body) is str:
        return Opaque(body[:200])
    if tag in ("a", "s") and type(body) is str:
        try:
            array = _load(io.BytesIO(_b64decode(body, validate=True)), allow_pickle=False)
        except Exception as error:  # a damaged or pickled array is refused, whatever the cause
            raise ChannelError(f"not an array without pickle ({error})") from None
        if type(array) is not _ndarray or array.dtype.kind not in "biufc":
            raise ChannelError("an array that is not numbers")
        return array if tag == "a" else array[()]
    raise ChannelError(f"unknown tag {tag!r}")


def decode(text: str) -> Any:
    """The value `encode` made of it; ChannelError for anything else."""
    if type(text) is not str or len(text) > MAX_BYTES:
        raise ChannelError("not a message of the channel, or longer than its limit")
    try:
        return _from_wire(_loads(text), 0)
    except (ValueError, RecursionError, TypeError) as error:
        if isinstance(error, ChannelError):
            raise
        raise ChannelError(f"malformed message ({type(error).__name__})") from None


# --- what a student's function returned, as plain data (in the kernel) ----------------------------


def plain(value: Any, depth: int = 0) -> Any:
    """`value` with tensors, variables and array-likes turned into NumPy arrays and containers
    into plain tuples, lists and dicts; ChannelError naming what is not data."""
    if depth > MAX_DEPTH:
        raise ChannelError(f"nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if value is None or kind in (bool, str, int, float):
        return value
    if isinstance(value, tuple):
        return tuple(_part(v, depth + 1) for v in value)
    if isinstance(value, list):
        return [_part(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {_part(k, depth + 1): _part(v, depth + 1) for k, v in value.items()}
    if isinstance(value, _generic) or isinstance(value, _ndarray) or hasattr(value, "__array__") \
            or hasattr(value, "numpy"):
        try:
            array = _asarray(value)
        except Exception as error:  # whatever the object raises, it is not an array
            raise NotData(f"a {kind.__name__} that does not convert to an array "
                               f"({type(error).__name__})") from None
        array = array.view(_ndarray) if type(array) is not _ndarray else array
        if array.dtype.kind not in "biufc":
            raise NotData(f"a {kind.__name__} holding {array.dtype} values, not numbers")
        return array[()] if isinstance(value, _generic) else array.copy()
    if isinstance(value, (bool, int, float, str)):  # subclasses: their plain value
        return (bool if isinstance(value, bool) else int if isinstance(value, int)
                else float if isinstance(value, float) else str)(value)
    raise NotData(f"a {kind.__module__}.{kind.__qualname__}, which is not data "
                  "(return arrays, numbers, strings, or tuples/lists/dicts of them)")


def _part(value: Any, depth: int) -> Any:
    """A part of a result: as `plain`, except that what is not data becomes an `Opaque`."""
    try:
        return plain(value, depth)
    except NotData:
        kind = type(value)
        return Opaque(f"{kind.__module__}.{kind.__qualname__}")


# --- the kernel's side: one request, one reply ----------------------------------------------------


def resolve(path: str) -> Callable:
    """A kit function from `"rnn_course_student.module:function"`; nothing outside the kit."""
    module, _, name = path.partition(":")
    if not (module == KIT or module.startswith(KIT + ".")) or not name:
        raise ChannelError(f"{path!r} is not a function of the student kit")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise ChannelError(f"{path!r} is not callable")
    return target


def _trusted(function: Callable) -> Callable:
    """A kit stand-in that runs its own Keras/TF reference even inside the guard."""
    from rnn_course_student.forbidden import trusted_calls

    def stand_in(*args, **kwargs):
        with trusted_calls():
            return function(*args, **kwargs)

    stand_in.__name__ = getattr(function, "__name__", "stand_in")
    return stand_in


def _user_namespace() -> dict:
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    return shell.user_ns if shell is not None else vars(sys.modules["__main__"])


def _raised(error: BaseException) -> str:
    from rnn_course_student.forbidden import ForbiddenCallError

    message = str(error)
    return _dumps({"raised": {
        "type": type(error).__name__, "message": message[:4000],
        "forbidden": isinstance(error, ForbiddenCallError),
        "not_implemented": isinstance(error, NotImplementedError),
        "assertion": isinstance(error, AssertionError)}})


def serve(request: str) -> str:
    """Runs one request of the judge (see autograder/judge/README.md) and returns the reply."""
    from rnn_course_student.checks import substituted
    from rnn_course_student.forbidden import forbid

    try:
        asked = _loads(request)
        if type(asked) is not dict or asked.get("op") not in ("call", "value"):
            raise ChannelError("not a request of the judge")
        namespace = _user_namespace()
        name = asked["name"]
        if name not in namespace:
            raise NameError(f"{name} is not defined: did its answer cell run without an error?")
        answer = namespace[name]
        if asked["op"] == "value":
            return _dumps({"ok": encode(plain(answer))})
        args = decode(asked.get("args", '{"t": []}'))
        kwargs = decode(asked.get("kwargs", '{"d": []}'))
        stand_ins = {n: _trusted(resolve(p)) for n, p in asked.get("substitute", {}).items()}
        run = resolve(asked["probe"]) if asked.get("probe") else None
        own_globals = [getattr(answer, "__globals__", namespace)]
        with contextlib.ExitStack() as stack:
            stack.enter_context(substituted(namespace, **stand_ins))
            for guard in asked.get("guards", []):
                stack.enter_context(forbid(*guard["targets"], task=guard["task"],
                                           namespaces=own_globals))
            result = run(answer, *args, **kwargs) if run else answer(*args, **kwargs)
            reply = encode(plain(result))
        return _dumps({"ok": reply})
    except ChannelError as error:
        return _dumps({"unconvertible": str(error)})
    except Exception as error:  # the student's code may raise anything: the judge names it
        return _raised(error)


# --- the judge's side, for hidden blocks that run both in the judge and in one kernel -------------


def probed(answer: Any, probe: str) -> Callable:
    """A function running the kit probe `probe` on `answer`: in the kernel through the judge's
    channel when `answer` is a judge proxy, here otherwise (the build runs hidden blocks in the
    notebook's own kernel)."""
    remote = getattr(answer, "__judge_probe__", None)
    if remote is not None:
        def run(*args, **kwargs):
            return remote(probe, *args, **kwargs)
    else:
        function = resolve(probe)

        def run(*args, **kwargs):
            return plain(function(answer, *args, **kwargs))
    run.__name__ = getattr(answer, "__name__", "answer")
    return run
