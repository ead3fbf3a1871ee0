"""The course's steps of the grading pipeline, one per file, each an nbgrader preprocessor.

Their order is declared in autograder/grading/pipeline.py.
"""

from .execute import LimitedExecute
from .overwrite import OverwriteCellsFromTask
from .rebuild import RebuildOnRelease
from .scan import ScanAnswers
from .zero import ZeroCheatedExercises

__all__ = ["LimitedExecute", "OverwriteCellsFromTask", "RebuildOnRelease", "ScanAnswers",
           "ZeroCheatedExercises"]
