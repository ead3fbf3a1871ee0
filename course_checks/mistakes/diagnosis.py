"""Naming a student's mistake: run their function, the right one and every catalogued mistake on
the same inputs, and say which mistake their output is.

An `Exercise` holds the right function (`reference`), the catalogue (`Mistake`s, each a small
mutant of the reference with a message in words), the inputs on which every mistake shows
(`cases`), and what to say when none matches. `diagnose` returns None for a right answer and a
message otherwise; `check` raises that message as an AssertionError, so a hidden test cell fails
with the student's actual mistake named first.

Mistakes are recognised by what the function returns, never by how it is written: a later
exercise's catalogue also holds the right loop around each of the earlier exercise's mutants
(a step mistake made inline in the loop returns the same outputs as a loop calling that
mistaken step), and a mutant may leave part of its output undetermined (NaN: a loop over a fixed
number of steps says nothing about the rest of h). When no mistake matches, the message says
where the output first goes wrong in the exercise's terms: the first wrong time step (the latest
for a backward pass), position or weight, with the expected and the student's value.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import types
from typing import Any, Callable, Sequence

import numpy

from course_checks.draws import current_key
from rnn_course_student.checks import numpy_at_import, substituted
from rnn_course_student.probe import probed

# NumPy's functions as they were at import: a submission run in this process (tests, the
# solutions build) that replaces one cannot change the comparison.
np = types.SimpleNamespace(**vars(numpy_at_import), **{name: getattr(numpy, name) for name in (
    "all", "argwhere", "flatnonzero", "floating", "insert", "moveaxis", "ones", "take")})


@dataclasses.dataclass(frozen=True)
class Mistake:
    """One mistake students make, as a mutant of the reference.

    Attributes:
        key: a short identifier (`"sigmoid"`), for tests and reports.
        message: what the student did, in words and without code; it completes the sentence
            "<exercise>: your <output> is what you get when ...", e.g. "the tanh derivative is
            left out".
        mutant: the reference with that mistake, same signature.
        undetermined: whether NaN in the mutant's outputs means "anything": a mistake that fixes
            only part of the output (a loop over a fixed number of steps leaves the rest of `h`
            to whatever the student filled it with) is matched on the determined part only,
            and an output shorter along an axis matches when what it lacks is undetermined.
    """

    key: str
    message: str
    mutant: Callable
    undetermined: bool = False


@dataclasses.dataclass(frozen=True)
class Case:
    """One set of inputs: `make()` returns fresh arguments every call (functions may modify
    their inputs, or, like a training step, change a model)."""

    label: str
    make: Callable[[], tuple]
    rtol: float = 1e-6
    atol: float = 1e-9


@dataclasses.dataclass(frozen=True)
class Exercise:
    """A coded exercise and its catalogue of mistakes.

    Attributes:
        name: the function's name in the notebook (`"rnn_backward"`).
        outputs: names of the values it returns; one name means it returns a single value.
        reference: the right function (NumPy, or TF where the exercise is about TF).
        mistakes: the catalogue.
        cases: the inputs on which the checks run and every mistake shows.
        section: where the notebook explains the concept (`"section 2, The whole sequence"`).
        pointer: the concept to look at when no catalogued mistake matches, in words.
        graded: the outputs a check grades (default: all); rnn_forward's cache is not graded.
        uses: names of earlier exercises this one is expected to call, with their exercises:
            a wrong earlier function is replaced by its reference before this one is judged.
        observe: turns (arguments, result) into the tuple of outputs to compare; by default the
            result itself (a train step also shows the weights it left behind).
        strict_dtype: outputs that must have the reference's dtype (float32 in, float32 out).
        axes: for each output, the names of its axes (`{"h": ("example", "step", "unit")}`), so
            that a difference is reported where it first appears in the exercise's terms: the
            first time step (an axis named "step"), else the first position.
        backward_in_time: the exercise computes its steps from the last to the first (BPTT):
            the first wrong step is then the latest one.
        entries: names of the entries of list outputs (`{"weights after the step": (...)}`).
        codes: for outputs that are codes (a builder's fingerprint), the word for each code, by
            its value (`{"read-out": ("softmax", "linear", ...)}`), for the message.
        probe: for answers that are Keras objects or work on them (a builder, a training step),
            the kit probe (`"rnn_course_student.probes_keras:model_report"`) every function of
            the exercise is called through, `probe(function, *case arguments)`: in the
            student's kernel for the student's answer (the judge's proxy), here for the
            reference and the mutants. Case arguments and results are then plain data.
    """

    name: str
    outputs: tuple[str, ...]
    reference: Callable
    mistakes: tuple[Mistake, ...]
    cases: Callable[[], list[Case]]
    section: str
    pointer: str
    graded: tuple[str, ...] | None = None
    uses: tuple["Exercise", ...] = ()
    observe: Callable[[tuple, Any], tuple] | None = None
    strict_dtype: tuple[str, ...] = ()
    probe: str | None = None
    axes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    backward_in_time: bool = False
    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()
    codes: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def mistake(self, key: str) -> Mistake:
        """The catalogued mistake with this key."""
        return next(m for m in self.mistakes if m.key == key)


# --- running a function and comparing what it returned ------------------------------------------


@dataclasses.dataclass
class _Run:
    """What one function did on one case: its outputs, or the exception it raised."""

    outputs: tuple | None = None
    error: BaseException | None = None
    shape_problem: str | None = None  # the result is not the tuple the exercise returns


def _run(exercise: Exercise, function: Callable, case: Case, guard=None) -> _Run:
    """Runs `function` on a fresh copy of the case's arguments; `guard` marks a student's run."""
    args = case.make()
    if exercise.probe is not None:
        function = probed(function, exercise.probe)
    try:
        with (guard() if guard else contextlib.nullcontext()):
            result = function(*args)
    except Exception as error:  # a wrong answer may fail in any way; that is information
        if guard is not None and (isinstance(error, NotImplementedError)
                                  or type(error).__name__ == "ForbiddenCallError"):
            raise  # an unanswered exercise, or a forbidden call, says so itself
        return _Run(error=error)
    if exercise.observe is not None:
        try:
            return _Run(outputs=tuple(exercise.observe(args, result)))
        except (TypeError, ValueError) as error:
            return _Run(shape_problem=str(error))
    if len(exercise.outputs) == 1:
        return _Run(outputs=(result,))
    if not isinstance(result, (tuple, list)) or len(result) != len(exercise.outputs):
        return _Run(shape_problem=(
            f"expected the tuple ({', '.join(exercise.outputs)}), got "
            f"{type(result).__name__}"
            + (f" of length {len(result)}" if hasattr(result, "__len__") else "")))
    return _Run(outputs=tuple(result))


# What the reference and the mutants do on a case depends only on the case's arguments: computed
# once per process for each set of arguments, since a diagnosis may build and train models
# (assignments 3 and 4). Cases whose values are drawn from the course secret have new arguments
# for each student; cases with fixed arguments are computed once for the whole batch.
_RUNS: dict[tuple, _Run] = {}
_RUNS_LIMIT = 4096  # entries kept before the cache starts again (a batch of many students)


def _fingerprint(value: Any, digest) -> None:
    """Feeds plain data (arrays, numbers, strings, containers) to `digest`; TypeError otherwise."""
    if isinstance(value, np.ndarray):
        digest.update(f"a{value.dtype.str}{value.shape}".encode())
        digest.update(numpy.ascontiguousarray(value).tobytes())
    elif value is None or isinstance(value, (bool, int, float, str, np.number)):
        digest.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, (tuple, list)):
        digest.update(f"{type(value).__name__}{len(value)}(".encode())
        for item in value:
            _fingerprint(item, digest)
        digest.update(b")")
    elif isinstance(value, dict):
        digest.update(f"dict{len(value)}(".encode())
        for key in sorted(value, key=repr):
            _fingerprint(key, digest)
            _fingerprint(value[key], digest)
        digest.update(b")")
    else:
        raise TypeError(type(value).__name__)


def _arguments_id(case: Case) -> str:
    """What identifies a case's arguments: their digest, or (for arguments that are not plain
    data) the key the judge draws from, which may have made them."""
    digest = hashlib.sha256()
    try:
        _fingerprint(case.make(), digest)
    except TypeError:
        return current_key().hex()
    return digest.hexdigest()


def _cached_run(exercise: Exercise, mistake: Mistake | None, case: Case) -> _Run:
    label = (exercise.name, mistake.key if mistake else "", case.label, _arguments_id(case))
    if label not in _RUNS:
        if len(_RUNS) >= _RUNS_LIMIT:
            _RUNS.clear()
        _RUNS[label] = _run(exercise, mistake.mutant if mistake else exercise.reference, case)
    return _RUNS[label]


def _as_arrays(value: Any) -> list | None:
    """A value as a list of arrays (None entries kept): lists of gradients stay lists."""
    if isinstance(value, (list, tuple)):
        return [None if v is None else _array(v) for v in value]
    return [_array(value)]


def _array(value: Any):
    try:
        return np.asarray(value)
    except Exception:  # an object that is no array cannot equal one
        return value


def _index(position: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in position) + "]"


def _locate(bad, got64, want64, name: str, axes: Sequence[str], backward: bool,
            codes: Sequence[str] = ()) -> str:
    """Where `bad` first appears, in the exercise's terms: with a time axis ("step"), the first
    time step that is wrong (the latest one for a backward pass) and what is right before it;
    otherwise the first wrong position. Always with the expected and the student's value."""
    if "step" in axes and bad.ndim == len(axes):
        axis = list(axes).index("step")
        steps = np.flatnonzero(np.moveaxis(bad, axis, 0).reshape(bad.shape[axis], -1).any(axis=1))
        T = bad.shape[axis]
        t = int(steps[-1] if backward else steps[0])
        inside = np.argwhere(np.take(bad, t, axis=axis))[0]
        position = tuple(int(i) for i in np.insert(inside, axis, t))
        values = (f"{name}{_index(position)}: expected {want64[position]:.6g}, "
                  f"got {got64[position]:.6g}")
        if backward:
            right = (f"right for the last {T - 1 - t} step(s), " if t < T - 1
                     else "already wrong at the last step, ")
            return (f"{right}walking back from t = {T - 1}, first wrong at time step t = {t} "
                    f"({values})")
        right = (f"right for time steps t = 0 to {t - 1}, " if t > 0
                 else "already wrong at the first step, ")
        return f"{right}first wrong at time step t = {t} of {T} ({values})"
    position = tuple(int(i) for i in np.argwhere(bad)[0])
    if not position and codes:
        def word(value):
            if float(value).is_integer() and 0 <= value < len(codes):
                return codes[int(value)]
            return f"{value:.6g}"
        return f"expected {word(want64[()])}, got {word(got64[()])}"
    if not position:
        return f"expected {want64[()]:.6g}, got {got64[()]:.6g}"
    return (f"first wrong at {name}{_index(position)}: expected {want64[position]:.6g}, "
            f"got {got64[position]:.6g}")


def _crop_undetermined(g, w):
    """For a mistake that leaves part of the output undetermined (NaN): `w` cut to `g`'s shape
    where what is cut off is all undetermined; None when `g` is larger, or lacks a determined
    part."""
    if g.ndim != w.ndim or any(a > b for a, b in zip(g.shape, w.shape, strict=True)):
        return None
    w64 = w.astype(np.float64)
    kept = tuple(slice(0, n) for n in g.shape)
    outside = np.ones(w.shape, bool)
    outside[kept] = False
    if not np.all(np.isnan(w64[outside])):
        return None
    return w[kept]


def _difference(got: Any, want: Any, case: Case, strict_dtype: bool, *, name: str = "",
                axes: Sequence[str] = (), backward: bool = False, entries: Sequence[str] = (),
                undetermined: bool = False, codes: Sequence[str] = ()) -> str | None:
    """None when `got` equals `want` within the case's tolerance; otherwise where it first
    differs, in the exercise's terms. With `undetermined`, NaN entries of `want` match anything."""
    got_items, want_items = _as_arrays(got), _as_arrays(want)
    if len(got_items) != len(want_items):
        return f"has {len(got_items)} entries, expected {len(want_items)}"
    for i, (g, w) in enumerate(zip(got_items, want_items, strict=True)):
        label = (entries[i] if i < len(entries)
                 else f"{name}[{i}]" if len(want_items) > 1 else name)
        where = f"{label}: " if len(want_items) > 1 else ""
        if w is None or g is None:
            if (w is None) != (g is None):
                return f"{where}expected {'None' if w is None else 'an array'}, got " \
                       f"{'None' if g is None else 'an array'}"
            continue
        if not isinstance(g, np.ndarray) or not np.issubdtype(g.dtype, np.number):
            return f"{where}expected numbers, got {type(g).__name__}"
        if undetermined and g.shape != w.shape and np.issubdtype(w.dtype, np.floating):
            cropped = _crop_undetermined(g, w)
            w = cropped if cropped is not None else w
        if g.shape != w.shape:
            return f"{where}has shape {g.shape}, expected {w.shape}"
        if strict_dtype and g.dtype != w.dtype:
            return f"{where}has dtype {g.dtype}, expected {w.dtype} (the input's dtype)"
        g64, w64 = g.astype(np.float64), w.astype(np.float64)
        same_nan = np.isnan(w64) if undetermined else (np.isnan(g64) & np.isnan(w64))
        error = np.where(same_nan, 0.0, np.abs(g64 - w64))
        bad = ~(error <= case.atol + case.rtol * np.abs(np.where(same_nan, 0.0, w64)))
        if np.any(bad):
            return where + _locate(bad, g64, w64, label, axes, backward, codes)
    return None


def _same(student: _Run, other: _Run, case: Case, positions: Sequence[int],
          strict_dtype: Sequence[int], undetermined: bool = False) -> bool:
    """Whether two runs agree on the outputs at `positions`, or both raised (NumPy and Keras
    word the same shape mistake as different exceptions). With `undetermined`, a case on which
    `other` (a mutant) raised says nothing: whatever the student did there matches."""
    if undetermined and other.error is not None:
        return True
    if student.error is not None or other.error is not None:
        return student.error is not None and other.error is not None
    if student.shape_problem or other.shape_problem:
        return False
    return all(_difference(student.outputs[p], other.outputs[p], case, p in strict_dtype,
                           undetermined=undetermined) is None
               for p in positions)


# --- the diagnosis --------------------------------------------------------------------------------


def diagnose(exercise: Exercise, student: Callable, *, cases: Sequence[Case] | None = None,
             guard: Callable[[], Any] | None = None) -> str | None:
    """None if `student` is right on every case; otherwise a message naming the mistake.

    The message is the catalogued mistake whose output equals the student's on every case, or
    (when the student has several mistakes) the one that explains the first wrong output; when
    none does, it says which output differs, where and by how much, and points to the concept.

    Args:
        exercise: the exercise and its catalogue.
        student: the student's function.
        cases: inputs to use; by default the exercise's own.
        guard: a context manager factory run around the student's calls (e.g. a `forbid`);
            a ForbiddenCallError it raises is passed on, not diagnosed.
    """
    own_cases = cases is None  # runs on the exercise's own cases are cached by their labels
    cases = list(exercise.cases() if own_cases else cases)

    def reference_run(mistake, case):
        if own_cases:
            return _cached_run(exercise, mistake, case)
        return _run(exercise, mistake.mutant if mistake else exercise.reference, case)

    graded = [exercise.outputs.index(n) for n in (exercise.graded or exercise.outputs)]
    strict = [exercise.outputs.index(n) for n in exercise.strict_dtype]
    # The student's runs first: an unanswered exercise or a forbidden call stops here, before
    # the references are computed (in assignments 3 and 4 they build and train models).
    mine = [_run(exercise, student, case, guard or contextlib.nullcontext) for case in cases]
    right = [reference_run(None, case) for case in cases]

    first_wrong = None
    for case, want, got in zip(cases, right, mine, strict=True):
        if not _same(got, want, case, graded, strict):
            first_wrong = (case, want, got)
            break
    if first_wrong is None:
        return None

    runs = {m.key: [reference_run(m, case) for case in cases] for m in exercise.mistakes}

    def explains(mistake: Mistake, positions: Sequence[int]) -> bool:
        return all(_same(got, theirs, case, positions, strict, mistake.undetermined)
                   for case, got, theirs in zip(cases, mine, runs[mistake.key], strict=True))

    for mistake in exercise.mistakes:  # one mistake explains everything
        if explains(mistake, graded):
            return f"{exercise.name}: {mistake.message}."
    case, want, got = first_wrong
    if got.error is not None:
        return (f"{exercise.name} raised {type(got.error).__name__} ({got.error}) for "
                f"{case.label}. {exercise.pointer} ({exercise.section}).")
    if got.shape_problem:
        return f"{exercise.name}: {got.shape_problem}."
    axes, entries = dict(exercise.axes), dict(exercise.entries)
    for position in graded:  # several mistakes: name the one behind the first wrong output
        output = exercise.outputs[position]
        difference = _difference(got.outputs[position], want.outputs[position], case,
                                 position in strict, name=output, axes=axes.get(output, ()),
                                 backward=exercise.backward_in_time,
                                 entries=entries.get(output, ()),
                                 codes=dict(exercise.codes).get(output, ()))
        if difference is None:
            continue
        for mistake in exercise.mistakes:
            if explains(mistake, [position]):
                return (f"{exercise.name}: {mistake.message}. That is not the only "
                        "difference: fix it and check again.")
        return (f"{exercise.name}: {exercise.outputs[position]} is wrong for {case.label}: "
                f"{difference}. {exercise.pointer} ({exercise.section}).")
    return None  # unreachable: the first wrong case differs in some graded output


def _stand_in(exercise: Exercise) -> Callable:
    """The right function for a wrong earlier exercise, as a new function object: the guard
    below blocks the catalogue's functions themselves wherever a namespace binds them."""

    def stand_in(*args, **kwargs):
        return exercise.reference(*args, **kwargs)

    stand_in.__name__ = exercise.name
    return stand_in


def _with_answers_forbidden(exercise: Exercise, guard: Callable[[], Any] | None,
                            namespace: dict) -> Callable[[], Any]:
    """`guard`, plus a block on the catalogue's right functions for this exercise and the ones
    it uses: they are answers, importable wherever the grader is installed."""
    from course_checks.testing import forbid

    answers = [e.reference for e in (exercise, *exercise.uses)]
    targets = [f"{f.__module__}.{f.__name__}" for f in answers if f.__qualname__ == f.__name__]

    @contextlib.contextmanager
    def guarded():
        with forbid(*targets, task=exercise.name, namespaces=[namespace]), \
                (guard() if guard else contextlib.nullcontext()):
            yield

    return guarded


def _passes(exercise: Exercise, student: Callable, **options) -> bool:
    """Whether a student's function is right; unanswered or forbidden counts as not right."""
    try:
        return diagnose(exercise, student, **options) is None
    except (NotImplementedError, AssertionError):
        return False


def check(exercise: Exercise, student: Callable, *, cases: Sequence[Case] | None = None,
          guard: Callable[[], Any] | None = None, namespace: dict | None = None) -> None:
    """Raises AssertionError naming the mistake unless `student` is right on every case.

    Earlier exercises this one calls (`exercise.uses`) are looked up by name in `namespace`
    (by default the student function's globals); each one that is wrong is replaced by its
    reference while `student` is judged, so a later function is never blamed for an earlier
    one. When only the earlier function is wrong, this prints a note saying so and passes.
    The calls that only decide whom to blame (the earlier function's own check, and the later
    one run with it) are limited to EARLIER_TIME_LIMIT_S each: one that hangs counts as wrong.
    """
    from course_checks.call_limits import EARLIER_TIME_LIMIT_S, within

    namespace = namespace if namespace is not None else getattr(student, "__globals__", {})
    guarded = _with_answers_forbidden(exercise, guard, namespace)
    wrong_earlier = {}
    for earlier in exercise.uses:
        theirs = namespace.get(earlier.name)
        if callable(theirs) and not _passes(earlier, within(theirs, EARLIER_TIME_LIMIT_S)):
            wrong_earlier[earlier.name] = _stand_in(earlier)
    with substituted(namespace, **wrong_earlier):
        verdict = diagnose(exercise, student, cases=cases, guard=guarded)
    if verdict is not None:
        raise AssertionError(verdict)
    if wrong_earlier and not _passes(exercise, within(student, EARLIER_TIME_LIMIT_S),
                                     cases=cases, guard=guarded):
        # Right with the stand-ins, wrong with the student's own earlier functions: it uses them.
        for name in wrong_earlier:
            print(f"{exercise.name} is right, but it calls your {name}, which fails its own "
                  "check: fix that first.")
