"""The mistakes students make in assignment 3 (gradient clipping), each as a mutant of the right
function, for the hidden tests of course/source/rnn3_clipping to name.

Global-norm clipping: ||g|| = sqrt(sum_i ||g_i||^2), every g_i times c / max(||g||, c).
"""

from __future__ import annotations

import numpy as np

from course_checks.draws import case_rng
from course_checks.mistakes.diagnosis import Case, Exercise, Mistake

# --- clip_by_global_norm ---------------------------------------------------------------------


def _tensors(grads):
    import tensorflow as tf

    return [None if g is None else tf.convert_to_tensor(g) for g in grads]


def clip_by_global_norm(grads, max_norm):
    """The right clipping. The mutants call `_clip` and `_step` instead of the right functions
    themselves, which a check forbids while the function it judges runs."""
    return _clip(grads, max_norm)


def _clip(grads, max_norm, *, norm_rule=None, factor_rule=None, per_tensor=False,
          report_clipped=False, drop_none=False, dtype=None, by_value=False):
    """Global-norm clipping in TensorFlow ops (tensors in or arrays in, tensors out), with the
    knobs its mistakes turn; the defaults are right."""
    import tensorflow as tf

    grads = _tensors(grads)
    present = [tf.cast(g, tf.float64) for g in grads if g is not None]
    squares = [tf.reduce_sum(tf.square(g)) for g in present]
    total = tf.add_n(squares) if squares else tf.constant(0.0, tf.float64)
    norm = norm_rule(present, total) if norm_rule else tf.sqrt(total)
    factor = factor_rule(norm, max_norm) if factor_rule else max_norm / tf.maximum(norm, max_norm)
    clipped = []
    for g in grads:
        if g is None:
            if not drop_none:
                clipped.append(None)
            continue
        if by_value:
            clipped.append(tf.clip_by_value(g, -max_norm, max_norm))
            continue
        if per_tensor:
            own = tf.sqrt(tf.reduce_sum(tf.square(tf.cast(g, tf.float64))))
            f = max_norm / tf.maximum(own, max_norm)
        else:
            f = factor
        out = tf.cast(g, tf.float64) * f
        clipped.append(tf.cast(out, dtype or g.dtype))
    reported = tf.minimum(norm, max_norm) if report_clipped else norm
    return clipped, reported


def _clip_cases():
    r = case_rng(71)  # the values differ per student and term (the course secret), not the shapes
    problems = []
    for dtype in ("float64", "float32"):
        problems.append((f"three {dtype} gradients far above the threshold",
                         [(r.normal(size=s) * 10).astype(dtype) for s in [(3, 4), (4,), (1, 1)]],
                         1.5))
        problems.append((f"{dtype} gradients below the threshold",
                         [(r.normal(size=s) * 0.05).astype(dtype) for s in [(2, 3), (3,)]], 1.0))
    problems.append(("gradients with a None entry", [r.normal(size=(2, 2)) * 5, None,
                                                     r.normal(size=(3,)) * 5], 2.0))
    problems.append(("one large and one small gradient",
                     [np.array([6.0, 8.0]), np.array([0.3, 0.4])], 1.0))
    cases = []
    for label, grads, max_norm in problems:
        single = any(g is not None and g.dtype == np.float32 for g in grads)
        tolerance = {"rtol": 1e-5, "atol": 1e-7} if single else {"rtol": 1e-9, "atol": 1e-12}
        cases.append(Case(f"{label} (max_norm={max_norm})",
                          lambda grads=grads, c=max_norm: (
                              [None if g is None else g.copy() for g in grads], c),
                          **tolerance))
    return cases


def _clipping(**knobs):
    return lambda grads, max_norm: _clip(grads, max_norm, **knobs)


def _sum_of_norms(present, total):
    import tensorflow as tf

    return tf.add_n([tf.sqrt(tf.reduce_sum(tf.square(g))) for g in present])


def _largest_norm(present, total):
    import tensorflow as tf

    return tf.reduce_max(tf.stack([tf.sqrt(tf.reduce_sum(tf.square(g))) for g in present]))


CLIP_BY_GLOBAL_NORM = Exercise(
    name="clip_by_global_norm",
    outputs=("clipped", "global_norm"),
    reference=clip_by_global_norm,
    cases=_clip_cases,
    strict_dtype=("clipped",),
    section="section 2, Clipping by global norm",
    pointer="Work the paper example of section 2 through your function: one norm for all the "
            "gradients together, one factor for all of them",
    mistakes=(
        Mistake("per_tensor", "your clipped gradients are each clipped to their own norm; global "
                "clipping scales all of them by one factor, from one norm over all of them",
                _clipping(per_tensor=True)),
        Mistake("reports_clipped_norm", "your global_norm is the norm after clipping; the function "
                "returns the norm before clipping", _clipping(report_clipped=True)),
        Mistake("always_scales",
                "your gradients are rescaled to the threshold even when their norm "
                "is below it; below the threshold nothing may change",
                _clipping(factor_rule=lambda norm, c: c / norm)),
        Mistake("no_square_root", "your global norm is the sum of the squares without the square "
                "root", _clipping(norm_rule=lambda present, total: total)),
        Mistake("sum_of_norms", "your global norm adds up the norms of the gradients; it is the "
                "square root of the sum of all their squared entries",
                _clipping(norm_rule=_sum_of_norms)),
        Mistake("largest_norm", "your global norm is the largest of the gradients' own norms; it "
                "takes all of their entries together", _clipping(norm_rule=_largest_norm)),
        Mistake("inverted_factor", "your factor is upside down: clipping multiplies by the "
                "threshold over the norm, which is at most 1",
                _clipping(factor_rule=lambda norm, c: np.maximum(norm, c) / c)),
        Mistake("drops_none", "your clipped list leaves out the None entries; each must stay "
                "None in its place", _clipping(drop_none=True)),
        Mistake("float64_output", "your clipped gradients come back as float64 for float32 "
                "inputs; keep each gradient's dtype", _clipping(dtype="float64")),
        Mistake("clips_values", "your clipped gradients cut each entry to the range from minus the "
                "threshold to the threshold; clipping by norm scales whole gradients instead",
                _clipping(by_value=True)),
    ),
)


# --- train_step ----------------------------------------------------------------------------------


def make_train_case(max_norm, seed=0):
    """(model, optimizer, x, y, max_norm): a tiny RNN whose first gradient is far above 1."""
    import keras

    keras.utils.set_random_seed(seed)
    r = np.random.default_rng(seed)
    model = keras.Sequential([
        keras.Input((6, 2)),
        keras.layers.SimpleRNN(
            3, recurrent_initializer=keras.initializers.RandomNormal(stddev=1.5, seed=seed)),
        keras.layers.Dense(1),
    ])
    x = r.normal(size=(8, 6, 2)).astype("float32")
    y = (r.normal(size=(8, 1)) * 5).astype("float32")
    return model, keras.optimizers.SGD(learning_rate=0.05), x, y, max_norm


def train_step(model, optimizer, x, y, max_norm=None):
    """The right training step."""
    return _step(model, optimizer, x, y, max_norm)


def _step(model, optimizer, x, y, max_norm=None, *, clip=_clip,
               apply_unclipped=False, report_clipped=False, loss_after=False, summed=False,
               never_clip=False, norm_only_when_clipping=False):
    """One SGD step on the mean squared error with global-norm clipping; knobs for its mistakes."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        error = tf.square(model(x, training=True) - y)
        loss = tf.reduce_sum(error) if summed else tf.reduce_mean(error)
    grads = tape.gradient(loss, model.trainable_variables)
    if max_norm is None or never_clip:
        used, norm = grads, clip(grads, 1.0)[1]  # only the norm is wanted
        if max_norm is None and norm_only_when_clipping:
            norm = 0.0
    else:
        clipped, norm = clip(grads, max_norm)
        used = grads if apply_unclipped else clipped
        if report_clipped:
            norm = min(float(norm), max_norm)
    optimizer.apply_gradients(zip(used, model.trainable_variables, strict=False))
    if loss_after:
        loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
    return float(loss), float(norm)


# The kit probe that runs a training step in the student's kernel (or here, for the right step and
# the mutants) on a small model holding the weights the case sends.
TRAIN_STEP_OUTCOME = "rnn_course_student.probes_keras:train_step_outcome"


def train_problem(max_norm, seed=0):
    """(weights, x, y, [max_norm], learning rate): plain arguments of `TRAIN_STEP_OUTCOME` for a
    tiny RNN (D = 2, H = 3, T = 6) whose first gradient is far above 1; values from the secret."""
    r = case_rng(seed)
    weights = [r.normal(size=(2, 3)) * 0.7, r.normal(size=(3, 3)) * 1.5, np.zeros(3),
               r.normal(size=(3, 1)) * 0.8, np.zeros(1)]
    x, y = r.normal(size=(8, 6, 2)), r.normal(size=(8, 1)) * 5
    return [w.astype("float32") for w in weights], x.astype("float32"), y.astype("float32"), \
        [max_norm], 0.05


def _observe_train_step(args, outcome):
    # a result that is not a pair raises here, and is reported as such
    loss, norm = outcome["results"][0]
    weights = [np.asarray(w) for w in outcome["weights"]]
    if len(weights) != len(WEIGHT_NAMES):
        raise ValueError(f"the model holds {len(weights)} weights after the step, expected "
                         f"{len(WEIGHT_NAMES)}")
    return float(loss), float(norm), weights


# The weights of the case's model, in Keras's order, as the message names the first wrong one.
WEIGHT_NAMES = ("the SimpleRNN's kernel (W_x)", "the SimpleRNN's recurrent kernel (W_h)",
                "the SimpleRNN's bias", "the Dense read-out's kernel", "the Dense read-out's bias")


def _train(**knobs):
    return lambda model, optimizer, x, y, max_norm=None: _step(model, optimizer, x, y, max_norm,
                                                               **knobs)


def _per_tensor(grads, max_norm):
    return _clip(grads, max_norm, per_tensor=True)


# Clipping mistakes that show in a training step (the others need a None gradient, a float32
# gradient's dtype, or a norm below the threshold, which its cases do not have).
_INLINE_CLIPPING = ("no_square_root", "sum_of_norms", "largest_norm", "inverted_factor",
                    "clips_values")


def _inline_clipping_mistakes():
    """clip_by_global_norm's mistakes made inside the step instead of in a called function: the
    right step around each mistaken clipping, so a step that clips inline is named alike."""
    return tuple(
        Mistake(f"clipping_{m.key}", "the clipping inside your step is wrong: " + m.message,
                _train(clip=m.mutant))
        for m in CLIP_BY_GLOBAL_NORM.mistakes if m.key in _INLINE_CLIPPING)


TRAIN_STEP = Exercise(
    name="train_step",
    outputs=("loss", "grad_norm", "weights after the step"),
    reference=train_step,
    observe=_observe_train_step,
    probe=TRAIN_STEP_OUTCOME,
    cases=lambda: [Case(f"max_norm={c}", lambda c=c, seed=seed: train_problem(c, seed), rtol=1e-4,
                        atol=1e-6) for seed, c in enumerate((1.0, None))],
    uses=(CLIP_BY_GLOBAL_NORM,),
    entries=(("weights after the step", WEIGHT_NAMES),),
    section="section 3, A training step with clipping",
    pointer="Follow the five steps listed in section 3 in order, and check what each returned "
            "value is measured on",
    mistakes=(
        Mistake("applies_unclipped", "your step applies the gradients as they came from the tape; "
                "the optimizer must receive the clipped ones", _train(apply_unclipped=True)),
        Mistake("reports_clipped_norm", "your grad_norm is the norm after clipping; the step "
                "returns the norm before clipping", _train(report_clipped=True)),
        Mistake("loss_after_update", "your loss is measured after the update; the step returns the "
                "loss the gradient was computed from", _train(loss_after=True)),
        Mistake("summed_loss", "your loss sums the squared errors; the mean squared error averages "
                "them", _train(summed=True)),
        Mistake("per_tensor_clipping",
                "your step clips each gradient on its own; it must scale all "
                "of them by one factor", _train(clip=_per_tensor)),
        Mistake("no_norm_without_clipping", "your grad_norm is missing when max_norm is None; the "
                "norm before clipping is measured either way",
                _train(norm_only_when_clipping=True)),
    ) + _inline_clipping_mistakes(),
)


# --- clipped_step_bound -------------------------------------------------------------------------


def clipped_step_bound(learning_rate, max_norm):
    return learning_rate * max_norm


CLIPPED_STEP_BOUND = Exercise(
    name="clipped_step_bound",
    outputs=("bound",),
    reference=clipped_step_bound,
    cases=lambda: [Case(f"learning_rate={lr}, max_norm={c}", lambda lr=lr, c=c: (lr, c), rtol=1e-9)
                   for lr, c in [(0.1, 1.0), (0.05, 3.0), (0.3, 0.2)]],
    section="section 6, The cliff",
    pointer="Write one update of gradient descent and bound the length of each of its factors",
    mistakes=(
        Mistake("threshold_over_rate", "your bound divides the threshold by the learning rate; "
                "the step is the learning rate times the gradient", lambda lr, c: c / lr),
        Mistake("rate_over_threshold", "your bound divides the learning rate by the threshold",
                lambda lr, c: lr / c),
        Mistake("threshold_only", "your bound leaves out the learning rate: the step is the "
                "learning rate times the gradient", lambda lr, c: c),
        Mistake("rate_only", "your bound leaves out the threshold that caps the gradient's norm",
                lambda lr, c: lr),
        Mistake("threshold_squared", "your bound squares the threshold; the clipped gradient's "
                "norm is at most the threshold itself", lambda lr, c: lr * c**2),
    ),
)

EXERCISES = (CLIP_BY_GLOBAL_NORM, TRAIN_STEP, CLIPPED_STEP_BOUND)
