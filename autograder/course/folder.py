"""The course folder as nbgrader sees it: config, gradebook, the assignment list, source and
release notebooks, and the release itself (nbgrader's generate_assignment).

Everything goes through nbgrader's own objects (``CourseDirectory`` and its ``format_path``,
``Gradebook``, ``NbGraderAPI``), so the plain ``nbgrader`` commands keep working on the same
folder.
"""

import os
import sys
import tempfile
from functools import cached_property
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from ..judge.secret import course_secret
from .policy import Policy, load

REPO = Path(__file__).resolve().parents[2]  # the repository's checkout
COURSE_DIR = REPO / "course"  # the repository's course
SOLUTIONS_DIR = REPO / "solutions"  # its executed solutions (autograder/course/build.py)


def load_config(root: str) -> Config:
    """The course's nbgrader_config.py (if any), with ``CourseDirectory.root`` set to ``root``."""
    root = os.path.abspath(root)
    config = Config()
    if os.path.exists(os.path.join(root, "nbgrader_config.py")):
        config.merge(PyFileConfigLoader("nbgrader_config.py", path=root).load_config())
    config.CourseDirectory.root = root
    return config


def _venv_on_path() -> None:
    """nbgrader shells out to `alembic` (gradebook migrations): it must be on PATH."""
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


class Course:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        if not os.path.isdir(os.path.join(self.root, "source")):
            raise ValueError(f"{self.root} is not an nbgrader course folder: expected a "
                             "'source/' folder with one sub-folder per assignment")

    @cached_property
    def config(self) -> Config:
        return load_config(self.root)

    @cached_property
    def coursedir(self) -> CourseDirectory:
        return CourseDirectory(config=self.config)

    @cached_property
    def policy(self) -> Policy:
        """The course's rules for answers, from the module its nbgrader_config.py names."""
        return load(self.config)

    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    @property
    def assignments(self) -> list[str]:
        """Assignment ids: the folders ``source/<id>/`` that hold a notebook ``<id>.ipynb``."""
        src = os.path.join(self.root, self.coursedir.source_directory)
        return sorted(a for a in os.listdir(src)
                      if os.path.exists(os.path.join(src, a, f"{a}.ipynb")))

    def _path(self, step: str, student: str, assignment: str, ext: str) -> str:
        folder = os.path.normpath(self.coursedir.format_path(step, student, assignment))
        return os.path.join(folder, f"{assignment}{ext}")

    def source_path(self, assignment: str) -> str:
        return self._path(self.coursedir.source_directory, ".", assignment, ".ipynb")

    def release_dir(self, assignment: str) -> str:
        return os.path.dirname(self.release_path(assignment))

    def release_path(self, assignment: str) -> str:
        return self._path(self.coursedir.release_directory, ".", assignment, ".ipynb")

    def autograded_path(self, student: str, assignment: str) -> str:
        return self._path(self.coursedir.autograded_directory, student, assignment, ".ipynb")

    def feedback_path(self, student: str, assignment: str) -> str:
        return self._path(self.coursedir.feedback_directory, student, assignment, ".html")

    def release_notebook(self, assignment: str) -> nbformat.NotebookNode:
        return nbformat.read(self.release_path(assignment), as_version=4)

    def nbgrader_api(self):
        """An NbGraderAPI for the course, configured by its own nbgrader_config.py."""
        from nbgrader.apps import NbGraderAPI

        _venv_on_path()
        config = load_config(self.root)
        # The exchange is for distributing to a JupyterHub; building never touches it.
        config.Exchange.root = str(Path(tempfile.gettempdir()) / "rnn-course-exchange")
        return NbGraderAPI(CourseDirectory(config=config), config=config)

    def build_release(self, assignments: list[str] | None = None) -> list[Path]:
        """Runs nbgrader's generate_assignment for every assignment (or those named); returns
        the release notebooks. Writes ``release/`` and records the hidden tests in the gradebook.

        Raises:
            RuntimeError: nbgrader refused a notebook; the message carries its log.
        """
        course_secret(self.root)  # made at the first release: the judge draws its cases from it
        api = self.nbgrader_api()
        written = []
        for assignment in assignments or self.assignments:
            result = api.generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n"
                                   f"{result.get('log', '')}\n{result.get('error', '')}")
            written.append(Path(self.release_path(assignment)))
        return written

    def ensure_released(self, assignments: list[str]) -> None:
        """Releases what the gradebook or the release folder lacks (a fresh clone has neither)."""
        missing = [a for a in assignments
                   if not os.path.exists(self.release_path(a)) or not self._in_gradebook(a)]
        if missing:
            self.build_release(missing)

    def _in_gradebook(self, assignment: str) -> bool:
        sqlite = "sqlite:///"
        if self.db_url.startswith(sqlite) and not os.path.exists(self.db_url[len(sqlite):]):
            return False  # opening it would create an empty gradebook
        with Gradebook(self.db_url) as gb:
            try:
                gb.find_notebook(assignment, assignment)
                return True
            except MissingEntry:
                return False
