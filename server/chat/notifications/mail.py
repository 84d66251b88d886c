"""Email's ports and shapes (PROTOCOL.md section 15): what a mail says, how it is written and how
it is sent. The domain decides who gets which mail and when; the adapters write it (templates,
``server.adapters.mail_compose``) and hand it to an SMTP server (``server.adapters.smtp``).

A mail is written once, whole (RFC 5322 text), into the outbox in the transaction that decided it,
so that every retry sends the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class DigestItem:
    sender: str  # the sender's username
    sender_display_name: str  # "" when none
    excerpt: str  # the first ``EXCERPT`` characters of the body, as written (the templates escape)
    link: str  # the web page at that message


@dataclass(frozen=True)
class DigestGroup:
    conversation: str  # as the user sees it: the topic's name, or ``@`` and the sender for a DM
    items: tuple[DigestItem, ...]


@dataclass(frozen=True)
class Digest:
    username: str
    groups: tuple[DigestGroup, ...]
    more: int  # unread messages beyond those listed
    unsubscribe: str  # the link that turns email off without signing in
    settings: str  # the web page, where email is turned back on


class Composer(Protocol):
    """Writes mails (both MIME parts, the headers) as RFC 5322 text."""

    base_url: str  # where browsers reach Parley: links in mails start with it

    def verification(self, to: str, username: str, link: str) -> str:
        """The mail with the link that verifies ``to`` (no unsubscribe header: it was asked for)."""
        ...

    def invitation(
        self, to: str, inviter: str, link: str, expires_at: datetime, username: str | None = None
    ) -> str:
        """An invitation to join (PROTOCOL.md section 19) from ``inviter``, valid until
        ``expires_at``; ``username``: the account an admin made for ``to``."""
        ...

    def password_reset(self, to: str, username: str, link: str, minutes: int) -> str:
        """The mail with a password reset link (PROTOCOL.md section 19), valid ``minutes``."""
        ...

    def digest(self, to: str, digest: Digest) -> str:
        """A digest, with ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` (RFC 8058)."""
        ...


class MailDeferred(Exception):
    """The mail was not accepted, for now: a 4xx reply, a connection error or a timeout (retried)."""


class MailRefused(Exception):
    """The server refused the mail for good: a 5xx reply (the mail is ``failed``)."""


class Mailer(Protocol):
    """Hands a written mail to the SMTP server: returns once the server accepted it."""

    timeout: float  # seconds one exchange may take (a taken mail's lease outlasts it)

    async def send(self, to: str, content: str) -> None:
        """Raises ``MailDeferred`` or ``MailRefused``."""
        ...
