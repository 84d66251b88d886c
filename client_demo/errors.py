"""The client's errors and exit codes.

``ClientError(code, message)`` is every failure the user should read in words:
an error ack from the server (``forbidden``, ``not_found`` ...), a refused
connection (``unauthorized``, ``token_expired``, ``token_revoked``), or a
local condition named in the same style (``unreachable``, ``timeout``,
``disconnected``, ``bad_reply``). ``UsageError`` is a mistake on the command
line.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

AUTH_CODES = frozenset({"unauthorized", "token_expired", "token_revoked"})


class ClientError(Exception):
    """A failure with a protocol-style code and a human message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.message else self.code


class UsageError(Exception):
    """The command line (or an interactive answer) cannot be used as given."""
