"""Builds the kit's fingerprints of catalogued mistakes (rnn_course_student/fingerprints.py), so
that the visible checks and rnn-check can name a mistake while the student works, without the
kit holding the mutants, the right functions or their outputs.

A fingerprint is a salted SHA-256 of a mutant's outputs on the kit's fixed public inputs, each
value rounded to a grid: one-way, and the space of outputs is far too large to search. Built
here (instructor side), checked for the two ways it could mislead:

- collisions: two mutants (or a mutant and the right function) with the same fingerprint on the
  kit's inputs would make the kit name one for the other; such mutants are left out;
- rounding edges: a value within `MARGIN` of a grid boundary could round either way for a
  student whose arithmetic differs in the last bits (another order of sums, float32 on the way);
  the grid's offset is chosen so that no value of the right function is that close (a right
  answer then always has the right function's fingerprint, which is not stored), and a mutant
  with a value that close at that offset is left out.

The table is written into the kit module as a Python literal of strings and numbers, each line
within the project's line length.

    python -m course_checks.mistakes.kit_fingerprints          # rewrites the kit module
    python -m course_checks.mistakes.kit_fingerprints --check  # fails if it is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from course_checks.mistakes import rnn1, rnn2, rnn3
from rnn_course_student import fingerprints as kit

MODULE = Path(kit.__file__)
# How far from a rounding boundary every value of the right function and of a stored mistake
# must be: float32 arithmetic on values of order one differs by about 1e-7.
MARGIN = 2e-6
OFFSETS = [k / 97 for k in range(97)]  # candidate grid offsets, in grid steps
WIDTH = 100  # the longest line written into the kit module

# The exercises the kit fingerprints: arrays of many values (a scalar such as a parameter count
# could be searched for), with a mistake that fixes every value (no undetermined parts). Not
# rnn4's builders: a model's description is a few discrete codes, so trying every combination
# and seeing which are named would narrow down the right one; nor train_step or the cliff's
# bound (a scalar, or a model the kit would have to train).
EXERCISES = (rnn1.RNN_STEP_FORWARD, rnn1.RNN_FORWARD, rnn1.TO_COLUMN_LAYOUT, rnn2.RNN_STEP_BACKWARD,
             rnn2.RNN_BACKWARD, rnn2.JACOBIAN_NORMS, rnn2.TANH_SLOPE, rnn3.CLIP_BY_GLOBAL_NORM)


def _outputs(exercise, function) -> list | None:
    """The fingerprinted outputs of `function` on the kit's inputs, as the kit reads a student's
    (float64 arrays); None if it raises."""
    graded = tuple(exercise.outputs.index(n) for n in (exercise.graded or exercise.outputs))
    if kit.GRADED.get(exercise.name) != graded:
        raise ValueError(f"{exercise.name}: the kit fingerprints outputs "
                         f"{kit.GRADED.get(exercise.name)}, the catalogue grades {graded}")
    try:
        return kit.fingerprinted(exercise.name, function(*kit.inputs(exercise.name)), graded)
    except Exception:  # a mutant that cannot run on these inputs is not fingerprinted
        return None


def _edge_distance(values: list, decimals: int, offset: float) -> float:
    """How close the nearest of `values` comes to a rounding boundary of the grid (in values'
    units): the grid rounds v * 10**decimals + offset to the nearest integer."""
    scaled = np.concatenate([np.ravel(v) for v in values]) * 10.0 ** decimals + offset
    return float(np.min(np.abs(scaled - np.floor(scaled) - 0.5), initial=0.5)) / 10.0 ** decimals


def _near_edge(values: list, decimals: int, offset: float) -> bool:
    return _edge_distance(values, decimals, offset) < MARGIN


def _offset(right: list, runs: dict, decimals: int, exercise: str) -> float:
    """The grid offset that keeps the right function's values clear of the edges and leaves out
    the fewest mutants (then: the widest margin)."""
    def score(offset):
        kept = sum(not _near_edge(v, decimals, offset) for v in runs.values())
        return kept, _edge_distance(right, decimals, offset)

    usable = [o for o in OFFSETS if not _near_edge(right, decimals, o)]
    if not usable:
        raise ValueError(f"{exercise}: every grid offset puts a value of the right function "
                         f"within {MARGIN:g} of a rounding edge; change the kit's inputs")
    return max(usable, key=score)


def build(salt: str) -> dict:
    """{exercise: {"decimals", "offset", "salt", "mistakes": {fingerprint: message}}}."""
    table = {}
    for exercise in EXERCISES:
        runs = {m.key: _outputs(exercise, m.mutant)
                for m in exercise.mistakes if not m.undetermined}
        runs = {k: v for k, v in runs.items()
                if v is not None and all(np.all(np.isfinite(a)) for a in v)}
        right = _outputs(exercise, exercise.reference)
        decimals = kit.DECIMALS
        offset = _offset(right, runs, decimals, exercise.name)
        runs = {k: v for k, v in runs.items() if not _near_edge(v, decimals, offset)}
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


def _words(text: str, indent: str) -> str:
    """A string as adjacent literals, each line within WIDTH (cut at spaces, which stay)."""
    room = WIDTH - len(indent) - 3  # the quotes and a comma
    lines, line = [], ""
    for word in text.split(" "):
        piece = word if not line else " " + word
        if line and len(json.dumps(line + piece, ensure_ascii=False)) > room:
            lines.append(line + " ")
            line = word
        else:
            line += piece
    lines.append(line)
    return "\n".join(indent + json.dumps(part, ensure_ascii=False) for part in lines)


def _literal(table: dict) -> str:
    """The table as a Python literal: strings, numbers and dicts, sorted, lines within WIDTH."""
    out = ["TABLE = {"]
    for name in sorted(table):
        spec = table[name]
        out.append(f"    {json.dumps(name)}: {{")
        for key in ("decimals", "offset", "salt"):
            out.append(f"        {json.dumps(key)}: {json.dumps(spec[key])},")
        out.append('        "mistakes": {')
        for digest in sorted(spec["mistakes"]):
            out.append(f"            {json.dumps(digest)}: (")
            out.append(_words(spec["mistakes"][digest], " " * 16))
            out.append("            ),")
        out.append("        },")
        out.append("    },")
    out.append("}")
    return "\n".join(out)


def render(table: dict) -> str:
    source = MODULE.read_text()
    begin, end = f"\n{kit.BEGIN}\n", f"\n{kit.END}\n"  # the marker lines, not the constants
    head, _, rest = source.partition(begin)
    _, _, tail = rest.partition(end)
    return head + begin + _literal(table) + end + tail


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="fail if the kit module is out of date")
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
