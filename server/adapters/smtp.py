"""The ``Mailer`` port over SMTP (PROTOCOL.md section 15), with aiosmtplib.

``PARLEY_SMTP_URL`` says where: ``smtp://[user:password@]host[:port]`` (port 25 by default;
STARTTLS whenever the server offers it, and then the certificate is checked) or
``smtps://[user:password@]host[:port]`` (implicit TLS, port 465 by default). With a user the
client logs in (LOGIN or PLAIN, whichever the server offers; user and password percent-decoded).
``PARLEY_SMTP_CA_FILE`` names the certificates to trust instead of the system's (a private CA).
Every exchange is bounded by ``PARLEY_SMTP_TIMEOUT``.

Replies map onto the worker's outcomes: a 4xx reply, a connection error or a timeout is
``MailDeferred`` (tried again later), a 5xx reply ``MailRefused`` (the mail failed for good).
"""

from __future__ import annotations

import ssl
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib

from server.chat.notifications.mail import MailDeferred, MailRefused

SCHEMES = {"smtp": 25, "smtps": 465}


class SmtpUrlError(ValueError):
    """``PARLEY_SMTP_URL`` cannot be used; the message says why."""


def smtp_options(url: str) -> dict[str, Any]:
    """aiosmtplib's connection options for ``url``."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise SmtpUrlError("PARLEY_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://...")
    try:
        port = parts.port or SCHEMES[parts.scheme]
    except ValueError as exc:
        raise SmtpUrlError(f"PARLEY_SMTP_URL has a bad port: {exc}") from None
    options: dict[str, Any] = {"hostname": parts.hostname, "port": port, "use_tls": parts.scheme == "smtps"}
    if parts.username:
        options["username"] = unquote(parts.username)
        options["password"] = unquote(parts.password or "")
    return options


class SmtpMailer:
    def __init__(self, url: str, sender: str, timeout: float, ca_file: Path | None = None) -> None:
        self._options = smtp_options(url)
        self._sender = parseaddr(sender)[1] or sender  # the envelope's: the address of From
        self.timeout = timeout
        self._tls = ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)

    async def send(self, to: str, content: str) -> None:
        try:
            await aiosmtplib.send(
                content.encode(),
                sender=self._sender,
                recipients=[to],
                timeout=self.timeout,
                start_tls=None if not self._options["use_tls"] else False,  # None: when offered
                tls_context=self._tls,
                **self._options,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            raise _outcome(min(codes, default=550), str(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _outcome(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:  # connection, timeout, TLS
            raise MailDeferred(f"{type(exc).__name__}: {exc}") from exc


def _outcome(code: int, message: str) -> Exception:
    text = f"{code} {message}"
    return MailDeferred(text) if code < 500 else MailRefused(text)
