"""The pictures' own worker: ``decoded`` runs a decode off the event loop, one at a time.

Pillow on untrusted bytes is bounded per picture by ``images.py``'s budget (checked from the
header, before decoding); this module bounds how many decodes run at once. Uploads and avatars
(``service.py``) and link previews' pictures (``server/adapters/preview_http.py``) all come here.

- **Not the default executor.** ``asyncio.to_thread`` is shared by bcrypt
  (``accounts/security.py``) and every other blocking call: a burst of pictures queued there made
  a login wait 8.4 s behind them. Decodes get ``DECODERS`` threads of their own, so the default
  executor always has a thread for a login and the process's peak for pictures is about
  ``DECODERS * images.DECODED_BYTES`` (one: a thumbnail takes well under a second, and the other
  core stays free for bcrypt and the event loop).
- **One pool per process**, made at the first decode (nothing is built at import): memory is the
  process's, so two apps in one process (the tests' servers) share the bound instead of doubling it.
  Nothing stops it: an idle pool thread costs nothing, and the interpreter joins it at exit.
- **Memory goes back after a burst.** Pillow frees a picture's blocks, but glibc keeps freed
  memory in the worker thread's arena: RSS stayed 2.3 GB above its start after a burst of 48 large
  pictures. After each decode the worker calls glibc's ``malloc_trim(0)``, which returns the free
  pages of every arena. Measured (12 decodes of a 5000x5000 RGBA PNG in one thread): 165 MB before,
  356 MB after without the trim, 54 MB with it. Where the C library has no ``malloc_trim`` (musl,
  macOS), nothing is trimmed.
"""

from __future__ import annotations

import asyncio
import ctypes
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

DECODERS = 1
THREAD_NAME = "parley-decode"

_lock = threading.Lock()
_pool: list[ThreadPoolExecutor] = []  # at most one, made at the first decode


async def decoded(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``work(*args, **kwargs)`` in the decoders' pool (at most ``DECODERS`` at once, in the order
    asked), memory trimmed after it; its result or its exception."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), partial(_trimmed, partial(work, *args, **kwargs)))


def _executor() -> ThreadPoolExecutor:
    with _lock:
        if not _pool:
            _pool.append(ThreadPoolExecutor(DECODERS, thread_name_prefix=THREAD_NAME))
        return _pool[0]


def _trimmed(work: Callable[[], T]) -> T:
    try:
        return work()
    finally:
        trim()


def trim() -> None:
    """Give the C library's free memory back to the operating system (glibc), else nothing."""
    malloc_trim = _malloc_trim()
    if malloc_trim is not None:
        malloc_trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        found: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc
        return None
    return found
