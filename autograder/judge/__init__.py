"""The judge: a notebook's hidden checks, run in the grading process against the student's
kernel through a narrow channel of plain data (see README.md in this folder)."""

from .channel import CallTimeout, Channel, ChannelDead, StudentError
from .judge import Judge, Verdict

__all__ = ["CallTimeout", "Channel", "ChannelDead", "Judge", "StudentError", "Verdict"]
