"""The course folder as nbgrader sees it: config, gradebook, source and release notebooks.

Everything goes through nbgrader's own objects (``CourseDirectory``, ``Gradebook``, and
``NbGraderAPI`` in autograder/build.py), so the plain ``nbgrader`` commands keep working on the same folder.
"""

import os
from functools import cached_property

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader


class Course:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        if not os.path.isdir(os.path.join(self.root, "source")):
            raise ValueError(f"{self.root} is not an nbgrader course folder: expected a "
                             "'source/' folder with one sub-folder per assignment")

    @cached_property
    def coursedir(self) -> CourseDirectory:
        config = Config()
        if os.path.exists(os.path.join(self.root, "nbgrader_config.py")):
            config.merge(PyFileConfigLoader("nbgrader_config.py", path=self.root).load_config())
        config.CourseDirectory.root = self.root
        return CourseDirectory(config=config)

    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    @property
    def gradebook_path(self) -> str:
        return os.path.join(self.root, "gradebook.db")

    @property
    def assignments(self) -> list[str]:
        src = os.path.join(self.root, "source")
        return sorted(a for a in os.listdir(src)
                      if os.path.exists(os.path.join(src, a, f"{a}.ipynb")))

    def source_path(self, assignment: str) -> str:
        return os.path.join(self.root, "source", assignment, f"{assignment}.ipynb")

    def release_dir(self, assignment: str) -> str:
        return os.path.join(self.root, "release", assignment)

    def release_path(self, assignment: str) -> str:
        return os.path.join(self.release_dir(assignment), f"{assignment}.ipynb")

    def release_notebook(self, assignment: str) -> nbformat.NotebookNode:
        return nbformat.read(self.release_path(assignment), as_version=4)

    def release(self, assignments: list[str] | None = None) -> None:
        """Builds the student release (and fills the gradebook) with nbgrader."""
        from .build import build_release  # the course's builder: nbgrader generate_assignment

        build_release(self.root, assignments or self.assignments)

    def ensure_released(self, assignments: list[str]) -> None:
        """Releases what the gradebook or the release folder lacks (a fresh clone has neither)."""
        missing = [a for a in assignments
                   if not os.path.exists(self.release_path(a)) or not self._in_gradebook(a)]
        if missing:
            self.release(missing)

    def _in_gradebook(self, assignment: str) -> bool:
        if not os.path.exists(self.gradebook_path):
            return False
        with Gradebook(self.db_url) as gb:
            try:
                gb.find_notebook(assignment, assignment)
                return True
            except MissingEntry:
                return False
