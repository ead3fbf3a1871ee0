"""Builds the kit's fingerprints of catalogued mistakes (rnn_course_student/fingerprints.py), so
that the visible checks and rnn-check can name a mistake while the student works, without the
kit holding the mutants, the right functions or their outputs.

A fingerprint is a salted SHA-256 of a mutant's outputs on the kit's fixed public inputs, each
value rounded to a grid: one-way, and the space of outputs is far too large to search. Built
here (instructor side), checked for the two ways it could mislead:

- collisions: two mutants (or a mutant and the right function) with the same fingerprint on the
  kit's inputs would make the kit name one for the other; such mutants are left out;
- rounding edges: a value within `MARGIN` of a grid boundary could round either way for a
  student whose arithmetic differs in the last bits; the grid's offset is chosen so that no
  stored mutant's value is that close.

    python -m course_checks.mistakes.kit_fingerprints          # rewrites the kit module
    python -m course_checks.mistakes.kit_fingerprints --check  # fails if it is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from course_checks.mistakes import rnn1, rnn2
from rnn_course_student import fingerprints as kit

MODULE = Path(kit.__file__)
MARGIN = 1e-7  # how far from a rounding boundary every stored value must be
OFFSETS = [k / 97 for k in range(97)]  # candidate grid offsets, in grid steps

# The exercises the kit fingerprints: arrays of many values (a scalar such as a parameter count
# could be searched for), with a mistake that fixes every value (no undetermined parts).
EXERCISES = (rnn1.RNN_STEP_FORWARD, rnn1.RNN_FORWARD, rnn1.TO_COLUMN_LAYOUT, rnn2.RNN_STEP_BACKWARD,
             rnn2.RNN_BACKWARD, rnn2.JACOBIAN_NORMS, rnn2.TANH_SLOPE)


def _outputs(exercise, function) -> list | None:
    """The graded outputs of `function` on the kit's inputs as float64 arrays; None if it raises."""
    try:
        result = function(*kit.inputs(exercise.name))
    except Exception:  # a mutant that cannot run on these inputs is not fingerprinted
        return None
    result = (result,) if len(exercise.outputs) == 1 else tuple(result)
    return [np.asarray(result[exercise.outputs.index(n)], dtype=np.float64)
            for n in (exercise.graded or exercise.outputs)]


def _near_edge(values: list, decimals: int, offset: float) -> bool:
    scaled = np.concatenate([np.ravel(v) for v in values]) * 10.0 ** decimals + offset
    return bool(np.any(np.abs(scaled - np.floor(scaled) - 0.5) < MARGIN * 10.0 ** decimals))


def build(salt: str) -> dict:
    """{exercise: {"decimals", "offset", "salt", "mistakes": {fingerprint: message}}}."""
    table = {}
    for exercise in EXERCISES:
        runs = {m.key: _outputs(exercise, m.mutant) for m in exercise.mistakes if not m.undetermined}
        runs = {k: v for k, v in runs.items() if v is not None and all(np.all(np.isfinite(a)) for a in v)}
        right = _outputs(exercise, exercise.reference)
        decimals = kit.DECIMALS
        offset = next(o for o in OFFSETS if not any(_near_edge(v, decimals, o)
                                                    for v in [right, *runs.values()]))
        spec = {"decimals": decimals, "offset": offset, "salt": salt}
        prints = {k: kit.fingerprint(exercise.name, v, spec) for k, v in runs.items()}
        right_print = kit.fingerprint(exercise.name, right, spec)
        counts = {}
        for p in [*prints.values(), right_print]:
            counts[p] = counts.get(p, 0) + 1
        messages = {m.key: f"{exercise.name}: {m.message}." for m in exercise.mistakes}
        spec["mistakes"] = {p: messages[k] for k, p in prints.items() if counts[p] == 1}
        table[exercise.name] = spec
    return table


def render(table: dict) -> str:
    source = MODULE.read_text()
    begin, end = f"\n{kit.BEGIN}\n", f"\n{kit.END}\n"  # the marker lines, not the constants
    head, _, rest = source.partition(begin)
    _, _, tail = rest.partition(end)
    # JSON's layout keeps each sentence and hash on one line (pprint splits long strings word by
    # word at this depth); the table holds only strings, numbers, lists and dicts, so it is
    # also a Python literal.
    body = "TABLE = " + json.dumps(table, indent=1, sort_keys=True, ensure_ascii=False)
    return head + begin + body + end + tail


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the kit module is out of date")
    args = parser.parse_args(argv)
    salt = next(iter(kit.TABLE.values()), {}).get("salt") or np.random.default_rng().bytes(8).hex()
    text = render(build(salt))
    if args.check:
        if text != MODULE.read_text():
            print(f"{MODULE} is out of date: run python -m course_checks.mistakes.kit_fingerprints",
                  file=sys.stderr)
            return 1
        return 0
    MODULE.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
