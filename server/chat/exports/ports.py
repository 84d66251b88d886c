"""Where exports' ZIPs are written (``server.adapters.exportstore``): the domain says what goes in
an archive, entry by entry; the store writes it to disk in a thread, never on the event loop, and
never holds a whole entry in memory (``lines`` appends each page as it comes)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol


class Archive(Protocol):
    """One ZIP being written; entries are added one after the other."""

    async def add_bytes(self, name: str, data: bytes) -> None: ...

    async def begin(self, name: str) -> None:
        """Open the entry ``name``; ``append`` writes to it until ``end``."""
        ...

    async def append(self, lines: Sequence[bytes]) -> None: ...

    async def end(self) -> None: ...

    async def add_file(self, name: str, source: Path) -> None:
        """Copy ``source`` into the entry ``name``, a chunk at a time."""
        ...

    async def close(self) -> int:
        """Finish the ZIP and put it in place (atomically); its size in bytes."""
        ...

    async def discard(self) -> None:
        """Give the unfinished ZIP up (a failed build): nothing of it remains."""
        ...


class ExportStore(Protocol):
    def create(self, export_id: str) -> Archive: ...

    def path(self, export_id: str) -> Path | None:
        """The finished ZIP, None when it is not there."""
        ...

    async def remove(self, export_id: str) -> None:
        """Remove the ZIP (and any unfinished one); nothing there is fine."""
        ...
