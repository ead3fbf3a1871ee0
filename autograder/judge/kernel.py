"""The channel's `send` over a Jupyter kernel client: one request as a silent user expression,
its reply waited for within a time limit, the kernel interrupted past it.

`call` is the one implementation; it works with an asynchronous client (the executor's, on
nbclient's loop) and a blocking one (`blocking_send`, for a judge outside nbclient's loop).
"""

from __future__ import annotations

import ast
import asyncio
import json
import time
from queue import Empty

from jupyter_core.utils import ensure_async

from .channel import CallTimeout, ChannelDead, request_expression

POLL_S = 0.2
# Seconds an interrupted call may take to come back before the kernel counts as unresponsive.
INTERRUPT_GRACE_S = 10


async def reply_to(km, kc, msg_id: str, deadline: float):
    """The shell reply to `msg_id`, or None past `deadline` (time.monotonic); raises ChannelDead
    when the kernel dies meanwhile."""
    while True:
        try:
            msg = await ensure_async(kc.get_shell_msg(timeout=POLL_S))
        except Empty:
            if not await ensure_async(km.is_alive()):
                raise ChannelDead("the kernel died") from None
            if time.monotonic() > deadline:
                return None
            continue
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return msg


async def call(km, kc, request: str, timeout: float) -> str:
    """Sends one channel request; its reply text. Raises CallTimeout when the kernel had to be
    interrupted, ChannelDead when the interrupt was ignored or the kernel died."""
    msg_id = kc.execute("", silent=True, store_history=False,
                        user_expressions={"r": request_expression(request)})
    reply = await reply_to(km, kc, msg_id, time.monotonic() + timeout)
    if reply is None:
        await ensure_async(km.interrupt_kernel())
        if await reply_to(km, kc, msg_id, time.monotonic() + min(timeout, INTERRUPT_GRACE_S)) \
                is None:
            raise ChannelDead("the kernel ignored the interrupt after a call timed out")
        raise CallTimeout(f"your code did not return within {timeout:.0f} s for a check of "
                          "this cell (stopped).")
    result = reply["content"].get("user_expressions", {}).get("r", {})
    if result.get("status") != "ok":
        return json.dumps({"raised": {"type": "ProbeError", "assertion": True, "message": (
            "the grader's probe failed in your kernel "
            f"({result.get('ename')}: {str(result.get('evalue'))[:200]}); was it replaced?")}})
    try:
        return ast.literal_eval(result.get("data", {}).get("text/plain", "None"))
    except (ValueError, SyntaxError):
        return ""


def blocking_send(km, kc):
    """`send(request, timeout)` for the kernel of `km` through the blocking client `kc`."""

    def send(request: str, timeout: float) -> str:
        return asyncio.run(call(km, kc, request, timeout))

    return send
