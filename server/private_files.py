"""The live data is the operator's only, as the backups are (``server/cli/backup.py``): the SQLite
database and its WAL, the kept secrets, uploads and their thumbnails, users' export ZIPs. Files
0600 in folders 0700.

Two measures, because they cover different launches. ``private_umask`` is the ``parley``
command's (``server.cli.main``, so ``parley serve``, its workers and every command that writes
data): with umask 077 whatever the process creates, SQLite's files included, is 0600 or 0700,
without each writer asking. ``private_folder`` is the data folders' own, done wherever the chat
service is built (``server.chat_factory``): a folder made 0700 whatever the umask, and one an
older version made 0755 tightened at the start, so the files it already holds are out of others'
reach even when the ASGI app runs under someone else's launcher.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

PRIVATE_UMASK = 0o077  # no bit for the group or others
FOLDER_MODE = 0o700


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Umask 077 while the block runs, then the umask found: the command is also run in a process
    that goes on (the tests run it in theirs), whose umask is not its to keep."""
    found = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(found)


def private_folder(path: Path, *, create: bool = True) -> None:
    """``path`` made if missing (parents too; with ``create=False`` a missing one is left for its
    store to make when first used), and 0700. One that exists is tightened when this user owns it;
    another user's (an operator's mount) is left as it is: only its owner may."""
    if create:
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    elif not path.is_dir():
        return
    found = path.stat()
    if stat.S_IMODE(found.st_mode) != FOLDER_MODE and found.st_uid == os.getuid():
        path.chmod(FOLDER_MODE)
