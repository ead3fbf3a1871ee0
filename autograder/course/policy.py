"""The rules the grader applies to answers: its own, the same for every course, and the course's.

The grader knows no course. A course hands it its rules in a module that its nbgrader_config.py
names (``c.CoursePolicy.module = "course_checks.policy"``), holding

    FORBIDDEN             assignment id -> definition ("class": any class, "*": anything) ->
                          the dotted names that definition may not use
                          (autograder/grading/scan_rules.py)
    PROTECTED_ATTRIBUTES  module -> the attributes (or "*": every public one) the runtime guard
                          fingerprints, on top of its own (autograder/sandbox/guard.py)

either may be left out. A course that names no module gets no forbidden calls and the guard's
own table only. The suspicious names below are the grader's own: ways to reach the grader, the
gradebook or the hidden tests, whatever the course.
"""

import importlib
from dataclasses import dataclass, field

from traitlets import Unicode
from traitlets.config import Config, Configurable

# Names whose use in an answer is not proof of cheating but deserves an instructor's look:
# ways to reach code or data indirectly (reported as "suspicious", no points taken).
SUSPICIOUS_CALLS = ["exec", "eval", "compile", "__import__", "importlib.import_module",
                    "globals", "vars", "gc.get_objects", "gc.get_referrers", "sys._getframe",
                    "inspect.currentframe", "ctypes", "sqlite3", "subprocess", "os.system",
                    "nbformat", "nbgrader", "shutil",
                    # Under bubblewrap these fail anyway (no network, a PID namespace of its
                    # own); named here so the table says what was tried.
                    "socket", "urllib.request", "http.client", "os.kill", "os.killpg",
                    "signal.pthread_kill"]
SUSPICIOUS_STRINGS = ["gradebook", "course/source", "nbgrader_config", "hidden test",
                      "BEGIN HIDDEN"]


class CoursePolicy(Configurable):
    """Where the course's rules are (set in its nbgrader_config.py)."""

    module = Unicode("", help="The importable module holding the course's FORBIDDEN and "
                              "PROTECTED_ATTRIBUTES tables (e.g. course_checks.policy); empty: "
                              "the course has none.").tag(config=True)


@dataclass(frozen=True)
class Policy:
    """One course's rules, as plain (picklable) data."""

    forbidden: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    protected_attributes: dict[str, list[str] | str] = field(default_factory=dict)


class PolicyError(ValueError):
    """The course's configuration names a policy module that cannot be used."""


def load(config: Config) -> Policy:
    """The rules of the course whose nbgrader configuration is ``config``."""
    name = CoursePolicy(config=config).module
    if not name:
        return Policy()
    try:
        module = importlib.import_module(name)
    except ImportError as e:
        raise PolicyError(f"the course's nbgrader_config.py sets c.CoursePolicy.module = "
                          f"{name!r}, which cannot be imported: {e}") from e
    policy = Policy(dict(getattr(module, "FORBIDDEN", {})),
                    dict(getattr(module, "PROTECTED_ATTRIBUTES", {})))
    _check(name, policy)
    return policy


def _check(name: str, policy: Policy) -> None:
    """A table of the wrong shape would silently forbid or protect nothing: say so instead."""
    for assignment, rules in policy.forbidden.items():
        if not isinstance(rules, dict) or not all(
                isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names)
                for names in rules.values()):
            raise PolicyError(f"{name}.FORBIDDEN[{assignment!r}] must map each definition to a "
                              f"list of dotted names, not {rules!r}")
    for module, attributes in policy.protected_attributes.items():
        if attributes != "*" and not (isinstance(attributes, (list, tuple))
                                      and all(isinstance(a, str) for a in attributes)):
            raise PolicyError(f"{name}.PROTECTED_ATTRIBUTES[{module!r}] must be \"*\" or a list "
                              f"of attribute names, not {attributes!r}")
