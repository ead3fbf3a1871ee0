"""The channel's `send` over a blocking Jupyter client, for a judge outside nbclient's loop
(the executor has its own, asynchronous one)."""

from __future__ import annotations

import ast
import json
import time
from queue import Empty

from .channel import CallTimeout, ChannelDead, request_expression


def blocking_send(km, kc):
    """`send(request, timeout)` for the kernel of `km` through the blocking client `kc`."""

    def reply_to(msg_id: str, deadline: float):
        while True:
            try:
                msg = kc.get_shell_msg(timeout=0.2)
            except Empty:
                if not km.is_alive():
                    raise ChannelDead("the kernel died") from None
                if time.monotonic() > deadline:
                    return None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg

    def send(request: str, timeout: float) -> str:
        msg_id = kc.execute("", silent=True, store_history=False,
                            user_expressions={"r": request_expression(request)})
        reply = reply_to(msg_id, time.monotonic() + timeout)
        if reply is None:
            km.interrupt_kernel()
            if reply_to(msg_id, time.monotonic() + min(timeout, 10)) is None:
                raise ChannelDead("the kernel ignored the interrupt after a call timed out")
            raise CallTimeout(f"your code did not return within {timeout:.0f} s (stopped).")
        result = reply["content"].get("user_expressions", {}).get("r", {})
        if result.get("status") != "ok":
            return json.dumps({"raised": {"type": "ProbeError", "assertion": True, "message": (
                f"the grader's probe failed in the kernel ({result.get('ename')})")}})
        try:
            return ast.literal_eval(result.get("data", {}).get("text/plain", "None"))
        except (ValueError, SyntaxError):
            return ""

    return send
