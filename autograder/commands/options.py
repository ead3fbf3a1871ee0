"""Options and helpers several commands share: the course folder, the limits, the workers."""

import argparse
import os
from dataclasses import fields

from ..grading.limits import Limits, flag


def course(args):
    """The course of ``--course``, else ./course, else the repository's course."""
    from ..course.folder import COURSE_DIR, Course

    path = args.course
    if path is None:
        path = "course" if os.path.isdir(os.path.join("course", "source")) else COURSE_DIR
    return Course(str(path))


def add_limits(p: argparse.ArgumentParser) -> None:
    """One option per ``Limits`` field, with its default and help from the dataclass."""
    for f in fields(Limits):
        p.add_argument(flag(f.name), dest=f.name, type=f.type if callable(f.type) else float,
                       default=f.default, help=f"{f.metadata['help']} (default {f.default:g})")


def limits(args) -> Limits:
    return Limits(**{f.name: getattr(args, f.name) for f in fields(Limits)})


def add_sandbox(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sandbox", choices=["auto", "bwrap", "none"], default="auto",
                   help="OS isolation of each kernel: bwrap (bubblewrap: no network, only its "
                        "working folder visible, cgroup/rlimit limits), none (audit hook only), "
                        "auto (bwrap where it works, else none with a warning; default)")


def add_workers(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", "-j", type=int, default=None,
                   help="parallel worker processes (default: the number of cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
