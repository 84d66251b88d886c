"""A whole HTTP answer written in one piece: status line, headers and body in one write.

An ASGI app answers in two messages, and uvicorn's httptools protocol writes each as it comes:
the status line and headers (after checking every header name and value against two regular
expressions), then the body, two system calls on the socket. For the server API's hot routes
(``server/edge/rest/server_fast.py``: a backend's publish, answered at its machine's rate) that
was a tenth of a publish's CPU (py-spy, ``bench/results/server-api-2026-11-29-publish.md``).

``answer`` writes what uvicorn's ``RequestResponseCycle.send`` would for a ``http.response.start``
with a ``content-length`` and the ``http.response.body`` that completes it, in one write, and then
completes the cycle as it does (CONTRACT.md rows 69-70). Only for headers the caller vouches for
(its own constant names and values, lower case), never a ``HEAD`` request, and only where uvicorn's
own path would do nothing else: with httptools' cycle, nothing written yet, the transport not
paused and the client still there, no access log line due. Anywhere else it sends the two ASGI
messages, as any app does.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, RequestResponseCycle

Headers = list[tuple[bytes, bytes]]


async def answer(send: Send, status: int, headers: Headers, body: bytes) -> bool:
    """Answer with ``status``, ``headers`` (a ``content-length`` among them, names in lower case,
    values without control characters) and ``body``; True when written in one piece."""
    cycle = getattr(send, "__self__", None)
    if type(cycle) is RequestResponseCycle and _plain(cycle):
        _write(cycle, status, headers, body)
        return True
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return False


def _plain(cycle: Any) -> bool:
    """Whether uvicorn's ``send`` would only write: not a ``HEAD`` request (its answer has no body),
    no drain to wait for, nothing answered yet, the client there, no access log line at the level set."""
    return not (
        cycle.scope["method"] == "HEAD"
        or cycle.flow.write_paused
        or cycle.disconnected
        or cycle.response_started
        or (cycle.access_log and cycle.access_logger.isEnabledFor(logging.INFO))
    )


def _write(cycle: Any, status: int, headers: Headers, body: bytes) -> None:
    """uvicorn's two steps (the start, then the whole body) as one write, and its completion."""
    cycle.response_started = True
    cycle.waiting_for_100_continue = False
    content = [STATUS_LINE[status]]
    for name, value in cycle.default_headers:
        content.extend((name.lower(), b": ", value, b"\r\n"))
    for name, value in headers:
        content.extend((name, b": ", value, b"\r\n"))
    if not cycle.keep_alive:
        content.append(b"connection: close\r\n")
    content.append(b"\r\n")
    content.append(body)
    cycle.transport.write(b"".join(content))
    cycle.expected_content_length = 0
    cycle.chunked_encoding = False
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()
