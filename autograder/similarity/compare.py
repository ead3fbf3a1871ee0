"""Pairs of students whose code is unusually alike: winnowed fingerprints, as MOSS computes them.

copydetect does the work: Pygments tokens with every name (variables, functions, attributes)
replaced by one letter and strings by another, comments and whitespace dropped, then k-grams
of that text hashed and winnowed. Renaming variables, reordering functions and rewriting
comments therefore change nothing. A fingerprint is boilerplate, and never a match, when it
occurs in the release's code or in more than ``common_fraction`` of the class (MOSS's ``-m``):
what everybody writes is the exercise, not copying.

Scores: for each student of a pair, the share of their own (non-boilerplate) code that also
appears in the other's. A pair ranks by the larger share, so a short answer copied whole into a
longer one still ranks high.
"""

import io
from collections import Counter
from dataclasses import dataclass

import numpy as np
from copydetect import CodeFingerprint, compare_files

NOISE = 25  # k: shorter matches (in filtered characters) are ignored; copydetect's default
WINDOW = 1  # winnowing window: 1 keeps every k-gram (exact for a class-sized set)


@dataclass
class Pair:
    a: str
    b: str
    score_a: float  # share of a's code found in b
    score_b: float
    tokens: int  # matched length, in filtered characters
    slices_a: np.ndarray  # (2, n) start/end offsets of matching regions in a's code
    slices_b: np.ndarray

    @property
    def score(self) -> float:
        return max(self.score_a, self.score_b)


def _fingerprint(code: str, boilerplate=None) -> CodeFingerprint:
    # The file name only picks Pygments' Python lexer; the code comes from ``fp``.
    return CodeFingerprint("answer.py", NOISE, WINDOW, boilerplate=boilerplate,
                           fp=io.StringIO(code))


def compare(codes: dict[str, str], boilerplate: str = "",
            common_fraction: float = 0.5) -> tuple[list[Pair], list[str]]:
    """(pairs sorted most similar first, students with no code of their own)."""
    base = _fingerprint(boilerplate).hashes if boilerplate.strip() else set()
    first = {s: _fingerprint(c, np.array(sorted(base))) for s, c in codes.items()}
    df = Counter(h for fp in first.values() for h in fp.hashes)
    limit = max(2, common_fraction * len(codes))
    common = {h for h, n in df.items() if n > limit}
    ignored = np.array(sorted(base | common))
    prints = {s: _fingerprint(c, ignored) for s, c in codes.items()}
    empty = sorted(s for s, fp in prints.items() if not fp.hashes)
    students = sorted(s for s in prints if s not in empty)
    pairs = []
    for i, a in enumerate(students):
        for b in students[i + 1:]:
            tokens, (sa, sb), (slices_a, slices_b) = compare_files(prints[a], prints[b])
            if tokens:
                pairs.append(Pair(a, b, float(sa), float(sb), int(tokens), slices_a, slices_b))
    pairs.sort(key=lambda p: (-p.score, -p.tokens, p.a, p.b))
    return pairs, empty
