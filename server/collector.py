"""Python's cyclic garbage collector, tuned for a long-running server.

Measured under ``bench.compare`` (connect, fan-out, echo on one server): with the default
thresholds (700, 10, 10) the collector ran about 1,200 times and took 2.9 s of the server's
34.6 s of CPU (8%): every young collection walks the objects allocated since the last one,
and each full one walks every socket, room and cached row. Almost nothing a server allocates
per event is cyclic (reference counting frees it), so after start-up we

- ``gc.freeze()`` what start-up made (modules, the app, caches): it lives as long as the process
  and is never scanned again. Without a collection first: that walked the whole heap (303,320
  objects) to free 1,741 of them, and took 0.10 s of the 1.0 s a restarted node needs before it
  answers (issue 58's start-up); those few stay frozen with the rest;
- collect the young generation every ``YOUNG`` allocations instead of 700. The older
  generations keep their default ratios: some garbage is cyclic (a young collection of that run
  freed about 2,500 objects), and what outlives a young collection is not left waiting longer.

With that the collector ran 18 times and took 0.38 s of 31.9 s (1.2%) in the same run
(``bench/results/gc-*.md``). Off with ``PARLEY_GC_TUNING=false``; the test suite turns it off
because one test process hosts hundreds of apps.

Until the app has started, ``parley serve`` and each of its workers hold the collector off while
they import and build the app (``hold_collector``, called by ``server/worker.py``): start-up
allocates a few million objects that all live, so every collection then walks a growing heap and
frees nothing. Held off, a start's CPU to its first answer fell by a fifth (``python -m bench.startup``;
``import server.app`` alone 1.54-1.68 -> 1.30-1.41 s). The lifespan turns it back on, tuned
(``tune_collector``) or not (``release_collector``).
"""

from __future__ import annotations

import gc

YOUNG = 20_000  # allocations minus deallocations between young collections (default 700)
MIDDLE = 10  # young collections per middle one (the default)
OLD = 10  # middle collections per full one (the default; CPython also waits for 25% growth)


def hold_collector() -> None:
    """No collection until the app has started (``tune_collector`` or ``release_collector``)."""
    gc.disable()


def tune_collector() -> None:
    """Freeze what start-up made, and collect less often from now on."""
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
    gc.enable()


def release_collector() -> None:
    """The collector on again, as Python's defaults have it (``PARLEY_GC_TUNING=false``)."""
    gc.enable()
