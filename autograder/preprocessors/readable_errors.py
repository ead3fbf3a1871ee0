"""Error outputs a student can read: the check's message first, then only the student's frames.

IPython prints a traceback as a header, every frame the error passed through, and the message
last. For a failing check most of those frames are the course's assertion helpers
(`File .../rnn_course_student/checks.py:115, in assert_close`), NumPy or TensorFlow internals,
all quoting paths of the grading machine, and in the feedback page the message ends up at the far
right of a box that scrolls sideways. This step rewrites every error output so that it reads:

    AssertionError: h_t does not match the reference: ... Usual cause: ...
    Traceback, in your notebook (most recent call last):
    Cell In[3], line 1 ...                       <- the notebook's own frames, unchanged
    (2 frames in the course's checking code and libraries not shown)

A notebook's code (the student's functions and the test cells) only ever runs as "Cell In[n]"
frames, so every "File ..." frame is someone else's code and is left out. Absolute paths of the
grading machine (temporary folders, the Python installation, the course's packages) in the message
are shortened to their last part. `readable_traceback` is the same rewrite for any caller (the
`check` command prints it in a terminal).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import sysconfig
import tempfile

from nbconvert.filters import strip_ansi
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import List, Unicode

RED, RESET = "\x1b[31m", "\x1b[39m"
WHERE = "Traceback, in your notebook (most recent call last):"
# The first line of a frame as IPython 8 writes it (after ANSI colours are stripped).
_NOTEBOOK_FRAME = re.compile(r"^\s*(Cell In\s*\[|Input In\s*\[)")
_OTHER_FRAME = re.compile(r"^\s*File\s+\S")
_HEADER = re.compile(r"^\s*(-{20,}|\S+\s+Traceback \(most recent call last\))\s*$")
# A SyntaxError names the file IPython compiled the cell as: "(1063758517.py, line 1)" in a
# kernel, "(<ipython-input-5-426f67482c1b>, line 1)" in a terminal; the line is what helps.
_IPYTHON_CELL_FILE = re.compile(r"\((?:\d+\.py|<ipython-input-[\w-]+>), (line \d+)\)")
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~])/(?:[^\s'\"`:,;()\[\]{}<>]+/)+[^\s'\"`:,;()\[\]{}<>]*")


def default_hidden_roots() -> list[str]:
    """Folders of the grading machine whose paths a student has no use for."""
    roots = {tempfile.gettempdir(), sys.prefix, sys.base_prefix}
    # Found without importing them.
    for package in ("rnn_tf", "rnn_course_student", "autograder", "course_checks"):
        spec = importlib.util.find_spec(package)
        if spec and spec.origin:
            roots.add(os.path.dirname(os.path.dirname(os.path.abspath(spec.origin))))
    roots.update(p for p in (sysconfig.get_paths().get(k) for k in ("purelib", "platlib", "stdlib"))
                 if p)
    return sorted(r.rstrip("/") for r in roots if r and r != "/")


def shorten_paths(text: str, roots: list[str]) -> str:
    """`text` with every absolute path under one of `roots` cut to '.../' and its last part."""

    def short(match):
        path = match.group(0)
        if any(path == r or path.startswith(r + "/") for r in roots):
            return ".../" + (os.path.basename(path.rstrip("/")) or "")
        return path

    return _ABSOLUTE_PATH.sub(short, text)


def readable_traceback(ename: str, evalue: str, traceback: list[str],
                       hidden_roots: list[str] | None = None, colour: bool = True) -> list[str]:
    """The lines of an error output rewritten: message first, then the notebook's own frames.

    Args:
        ename, evalue: the exception's name and message, as in a notebook's error output.
        traceback: the output's traceback entries (with or without ANSI colours).
        hidden_roots: folders whose paths are shortened in the message; default: this machine's
            temporary folder, Python installation and the course's packages.
        colour: keep ANSI colours (the HTML exporter turns them into styles); False for plain
            text.

    Returns:
        New traceback entries: `ename: evalue`, then the notebook's frames under a heading, then
        one line saying how many other frames were left out (if any).
    """
    roots = default_hidden_roots() if hidden_roots is None else hidden_roots
    message = _IPYTHON_CELL_FILE.sub(r"(\1)", shorten_paths(evalue, roots))
    first = f"{RED}{ename}{RESET}: {message}" if colour else f"{ename}: {message}"
    frames, hidden = [], 0
    for entry in traceback:
        plain = strip_ansi(entry)
        lines = plain.strip("\n").splitlines() or [""]
        if _HEADER.match(lines[0]) and len(lines) == 1:
            continue  # replaced by the message above and the heading below
        if plain.strip() in (f"{ename}: {evalue}".strip(), f"{ename}: {message}".strip()):
            continue  # the message itself, now first
        if _NOTEBOOK_FRAME.match(lines[0]):
            frames.append(entry if colour else plain)
        elif _OTHER_FRAME.match(lines[0]):
            hidden += 1
        else:  # anything IPython may add that is neither: keep it, paths shortened
            frames.append(shorten_paths(entry if colour else plain, roots))
    out = [first]
    if frames:
        out += ["", WHERE, *frames]
    if hidden:
        noun = "frame" if hidden == 1 else "frames"
        out.append(f"({hidden} {noun} in the course's checking code and libraries not shown)")
    return out


class ReadableErrors(NbGraderPreprocessor):
    """Rewrites every error output with `readable_traceback` (see the module's docstring)."""

    hidden_roots = List(
        Unicode(), default_value=None, allow_none=True,
        help="Folders whose absolute paths are shortened in error messages; default: the "
             "temporary folder, the Python installation and the course's packages.",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        roots = default_hidden_roots() if self.hidden_roots is None else list(self.hidden_roots)
        for cell in nb.cells:
            for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
                if output.get("output_type") == "error":
                    output["traceback"] = readable_traceback(
                        output.get("ename", ""), output.get("evalue", ""),
                        list(output.get("traceback", [])), roots)
        return nb, resources
