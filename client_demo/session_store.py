"""A stored session (PROTOCOL.md section 19, "Sessions that last"): the refresh cookie
``parley_refresh`` a password login or a sign-up set, kept in a file only its owner may read
(mode 0600, in a 0700 folder), so that the next start signs in without a password.

The file is ``$XDG_CONFIG_HOME/parley-demo/session.json`` (``~/.config/parley-demo/`` without
XDG_CONFIG_HOME), or ``--session-file`` / ``PARLEY_SESSION_FILE``. It holds the server's URL,
the username and the cookie: a session is used only for the server it was opened on (and for
``--user`` when given). Each use turns the cookie over (``POST /api/auth/refresh`` with the
cookie only): the new one replaces the old in the file at once, since the old one presented
again would end the session as a replay. Written to a temporary file then renamed, so that a
crash leaves the old cookie or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

FILE_ENV = "PARLEY_SESSION_FILE"


def default_path() -> Path:
    """Where the session is kept unless an option or ``PARLEY_SESSION_FILE`` says otherwise."""
    given = os.environ.get(FILE_ENV)
    if given:
        return Path(given).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "parley-demo" / "session.json"


@dataclass(frozen=True)
class Stored:
    url: str
    username: str
    cookie: str


class SessionStore:
    """The session file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, url: str, username: str | None = None) -> Stored | None:
        """The session kept for ``url`` (and ``username`` when given); None when there is none,
        it is another server's or user's, or the file is not one of ours."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        found = [data.get(key) for key in ("url", "username", "cookie")]
        if not all(isinstance(value, str) and value for value in found):
            return None
        stored = Stored(*(str(value) for value in found))
        if stored.url != url or (username is not None and stored.username != username):
            return None
        return stored

    def save(self, stored: Stored) -> None:
        """Keep ``stored`` (replacing what was there), readable by its owner only."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                os.fchmod(out.fileno(), 0o600)  # a leftover file of that name kept its own mode
                json.dump({"url": stored.url, "username": stored.username, "cookie": stored.cookie}, out)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        os.replace(temporary, self.path)

    def delete(self) -> bool:
        """Forget the session; False when there was no file."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True
