"""What a hidden block sees in place of the student's answers: proxies that call through the
channel, never the student's objects themselves.

Every proxy's `__globals__` is the judge's namespace for the notebook, so that
`check_blaming_earlier(check, rnn_forward, rnn_step_forward=trusted_step_forward)` and the
catalogue's `substituted(...)` work as they do in a kernel: while a name of an earlier answer is
bound to something else there, each call carries that stand-in (a kit function) to the kernel,
which binds it by name for the call only.

`proxy.__judge_within__(seconds)` is the same answer with each call limited to `seconds` (the
course's checks use it, through `course_checks.call_limits.within`, for calls that only decide
whom to blame); once one of its calls ran past the limit, the others fail at once.
"""

from __future__ import annotations

from typing import Any

from rnn_course_student import probe

from .channel import CallTimeout, Channel


class JudgeError(Exception):
    """A hidden block asked for something the judge cannot do (an instructor's mistake)."""


class AnswerProxy:
    """An answer of the notebook (function or class), reachable only through the channel."""

    def __init__(self, channel: Channel, name: str, namespace: dict, source: str = "",
                 limit: float | None = None):
        self._channel = channel
        self.__name__ = self.__qualname__ = name
        self.__globals__ = namespace
        self.__judge_source__ = source  # the answer cell as submitted (for AST checks)
        self._limit = limit  # seconds per call, when shorter than the channel's
        self._hung: str | None = None  # why calls of this limited proxy fail at once

    def __repr__(self) -> str:
        return f"<the student's {self.__name__}, in the kernel>"

    def _stand_ins(self) -> dict[str, str]:
        """Kit paths of the stand-ins bound now in place of answers (see the module docstring)."""
        out = {}
        for name, proxy in self.__globals__.get("__judge_answers__", {}).items():
            bound = self.__globals__.get(name, proxy)
            if bound is not proxy:
                out[name] = stand_in_path(name, bound)
        return out

    def __judge_within__(self, seconds: float) -> "AnswerProxy":
        """This answer with each call limited to `seconds` (see the module docstring)."""
        return type(self)(self._channel, self.__name__, self.__globals__,
                          self.__judge_source__, limit=seconds)

    def __judge_probe__(self, probe_path: str, *args, **kwargs) -> Any:
        """Runs the kit probe `probe_path` on this answer in the kernel."""
        probe.resolve(probe_path)  # a probe must be a kit function, here as in the kernel
        return self._call(args, kwargs, probe_path=probe_path)

    def _call(self, args: tuple, kwargs: dict, probe_path: str | None = None) -> Any:
        if self._hung:
            raise CallTimeout(self._hung)
        try:
            return self._channel.call(self.__name__, args, kwargs, probe_path=probe_path,
                                      substitute=self._stand_ins(), timeout=self._limit)
        except CallTimeout as error:
            if self._limit is not None:  # it hangs: waiting again would tell nothing new
                self._hung = (f"{self.__name__} did not return within {self._limit:g} s "
                              f"before ({error}); not called again.")
            raise


class FunctionProxy(AnswerProxy):
    """Calling it calls the student's function in the kernel; the result comes back as data."""

    def __call__(self, *args, **kwargs):
        return self._call(args, kwargs)


class ClassProxy(AnswerProxy):
    """A class of the notebook: judged only through kit probes (no object crosses)."""

    def __call__(self, *args, **kwargs):
        raise JudgeError(f"{self.__name__} is a class of the student's notebook: a hidden check "
                         "runs it through a kit probe (rnn_course_student.probe.probed), since "
                         "no object crosses to the judge.")


def stand_in_path(name: str, value: Any) -> str:
    """`value`, bound in place of the answer `name`, as the kit path the kernel binds."""
    module = getattr(value, "__module__", "") or ""
    qualname = getattr(value, "__qualname__", "") or ""
    if (module == probe.KIT or module.startswith(probe.KIT + ".")) and "<" not in qualname:
        return f"{module}:{qualname}"
    if name in probe.TRUSTED_STAND_INS:
        return probe.TRUSTED_STAND_INS[name]
    raise JudgeError(f"no kit stand-in for {name}: a hidden check may put only functions of "
                     "rnn_course_student in place of an answer.")
