"""The judge's end of the channel: requests to the kernel's `rnn_course_student.probe.serve`,
replies decoded into plain data or re-raised as the exception the student's code raised.

The channel knows nothing about kernels: it is given `send(request_text, timeout) -> reply
text`, which the executor implements with its kernel client (a silent user expression, not
stored in the history) and the tests with a kernel of their own.
"""

from __future__ import annotations

import builtins
import json
from typing import Any, Callable

from rnn_course_student import probe
from rnn_course_student.forbidden import ForbiddenCallError, active_guards


class StudentError(Exception):
    """An exception the student's code raised in the kernel, under the student's type name."""


class CallTimeout(AssertionError):
    """A call into the kernel did not return within its time limit (it was interrupted)."""


class TimeUsedUp(CallTimeout):
    """No call was made: the checks of the cell used up the time they may wait for the kernel."""


class ChannelDead(AssertionError):
    """The kernel no longer answers: every later call fails with this."""


class Unconvertible(AssertionError):
    """The student's code returned something that is not plain data."""


# Builtin exceptions are re-raised as themselves; these never are (they would stop the judge).
_NOT_RE_RAISED = (SystemExit, KeyboardInterrupt, GeneratorExit)
_classes: dict[str, type] = {}


def _exception(kind: str, message: str, *, forbidden: bool, not_implemented: bool,
               assertion: bool) -> BaseException:
    """The reply's exception as an exception of the same kind in the judge."""
    if forbidden:
        return ForbiddenCallError(message)
    if not_implemented:
        return NotImplementedError(message)
    builtin = getattr(builtins, kind, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception) \
            and not issubclass(builtin, _NOT_RE_RAISED):
        try:
            return builtin(message)
        except Exception:  # a builtin that takes other arguments (UnicodeError's kin)
            pass
    base = AssertionError if assertion else StudentError
    name = kind if kind.isidentifier() else "StudentError"
    cls = _classes.setdefault(f"{base.__name__}.{name}", type(name, (base,), {}))
    return cls(message)


class Channel:
    """Calls answers of one notebook's kernel.

    A function that did not return within a call's limit is not called again with the same
    stand-ins: its later calls fail at once (it hangs; each wait would cost the same limit and
    tell nothing new, and the cells after it would be starved of the judge's time).

    Args:
        send: `send(request, timeout) -> reply`; raises CallTimeout after interrupting the
            kernel, ChannelDead when the kernel is gone.
        timeout: seconds per call.
    """

    def __init__(self, send: Callable[[str, float], str], timeout: float):
        self._send = send
        self.timeout = timeout
        self.calls = 0
        self.dead: str | None = None
        self.hung: dict[tuple, str] = {}  # (name, probe, stand-ins) -> why it is not called

    def value(self, name: str) -> Any:
        """The plain data an answer variable (a quiz's dict) holds in the kernel."""
        return self._request({"op": "value", "name": name}, name)

    def call(self, name: str, args: tuple = (), kwargs: dict | None = None, *,
             probe_path: str | None = None, substitute: dict[str, str] | None = None,
             timeout: float | None = None) -> Any:
        """`name(*args, **kwargs)` in the kernel (or the kit probe `probe_path(name's object,
        *args, **kwargs)`), inside the `forbid` blocks open here, with `substitute`'s kit
        functions bound by name for the call; the result as plain data. `timeout`: a shorter
        limit than the channel's for this call."""
        request = {"op": "call", "name": name, "probe": probe_path,
                   "args": probe.encode(tuple(args)), "kwargs": probe.encode(dict(kwargs or {})),
                   "guards": active_guards(), "substitute": dict(substitute or {})}
        stand_ins = tuple(sorted(request["substitute"].items()))
        return self._request(request, name, timeout, hang_key=(name, probe_path, stand_ins))

    def _request(self, request: dict, name: str, timeout: float | None = None,
                 hang_key: tuple | None = None) -> Any:
        if self.dead:
            raise ChannelDead(f"{name} could not be called: {self.dead}.")
        if hang_key in self.hung:
            raise CallTimeout(self.hung[hang_key])
        self.calls += 1
        try:
            text = self._send(json.dumps(request),
                              self.timeout if timeout is None else min(timeout, self.timeout))
        except TimeUsedUp:
            raise
        except CallTimeout as error:
            if hang_key is not None:
                self.hung[hang_key] = (f"{name} did not return in an earlier check ({error}); "
                                       "it is not called again.")
            raise
        except ChannelDead as error:
            self.dead = str(error)
            raise
        try:
            reply = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            reply = None
        if not isinstance(reply, dict) or len(reply) != 1:
            raise Unconvertible(f"{name}: the kernel's answer was not a reply of the grader's "
                                "channel (was the probe replaced?).")
        if "ok" in reply:
            try:
                return probe.decode(reply["ok"])
            except probe.ChannelError as error:
                raise Unconvertible(f"{name}: the kernel's answer could not be read ({error}).") \
                    from None
        if "unconvertible" in reply:
            raise Unconvertible(f"{name} returned {reply['unconvertible']}: it cannot be "
                                "checked.")
        raised = reply.get("raised")
        if isinstance(raised, dict):
            raise _exception(str(raised.get("type", "Exception")), str(raised.get("message", "")),
                             forbidden=bool(raised.get("forbidden")),
                             not_implemented=bool(raised.get("not_implemented")),
                             assertion=bool(raised.get("assertion")))
        raise Unconvertible(f"{name}: the kernel's answer was not a reply of the grader's channel.")


def request_expression(request: str) -> str:
    """The user expression the kernel evaluates for one request: the kit's fixed probe."""
    return f"__import__('rnn_course_student.probe', fromlist=['serve']).serve({request!r})"
