"""rnn-grade demo: release a copy of the course, grade a sample class, show the table.

The sample class is the course's (course_checks/sample_class.py): the course's typical mistakes
and the hostile submissions the grader must survive, built from the course's own notebooks.
"""

import os
import shutil
from pathlib import Path

from course_checks import sample_class

from . import options
from .autograde import grade_class

NAME = "demo"
HELP = "release, grade the course's sample class, print the table"
CASES = ["correct", "empty", "typical_mistake", "only_first_exercise", "invalid_json",
         "edited_test", "monkeypatch_numpy", "calls_what_it_implements", "infinite_loop",
         "kernel_exit", "reads_hidden_tests"]


def add_arguments(p) -> None:
    p.add_argument("--out", default="grading/demo",
                   help="working folder for the demo (default grading/demo)")
    options.add_workers(p)
    options.add_limits(p)
    options.add_sandbox(p)
    p.set_defaults(cell_timeout=20)  # the sample infinite loop costs one cell timeout


def run(args) -> int:
    from ..course.folder import Course

    source = options.course(args)
    out = Path(args.out).resolve()
    work = out / "course"
    if work.exists():
        shutil.rmtree(work)
    # A copy of the course, so the demo's sample students never enter the real gradebook.
    work.mkdir(parents=True)
    shutil.copytree(os.path.join(source.root, "source"), work / "source")
    shutil.copy(os.path.join(source.root, "nbgrader_config.py"), work / "nbgrader_config.py")
    course = Course(str(work))
    print(f"building the release of {', '.join(course.assignments)} in {work} ...")
    course.build_release()
    class_dir = out / "submissions"
    if class_dir.exists():
        shutil.rmtree(class_dir)
    first, *rest = course.assignments
    paths = sample_class.make_class(course, str(class_dir), [first], CASES,
                               outside_file=str(out / "ESCAPED.txt"))
    paths += sample_class.make_class(course, str(class_dir), rest, ["correct"])
    print(f"grading a sample class of {len(paths)} notebooks from {class_dir} ...")
    args.csv = str(out / "grades.csv")
    grade_class(course, str(class_dir), args, feedback=True)
    print(f"sample submissions: {class_dir}  (one per case, named <case>_<assignment>.ipynb)")
    return 0
