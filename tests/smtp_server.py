"""A real SMTP server for the mail tests: aiosmtpd's ``Controller`` on 127.0.0.1, a free port.

It records every mail it accepts (envelope, parsed message, whether it came over TLS and who
logged in) and answers ``DATA`` from a script: the replies in ``script`` in turn (``451 ...``: try
later, ``550 ...``: refused), then ``250``. A test awaits the next mail with ``next()``, bounded.

``tls`` makes it offer STARTTLS (``implicit``: speak TLS from the start) with a self-signed
certificate for 127.0.0.1 made here with ``cryptography``; its PEM (``certificate``) is what the
server under test is told to trust (``PARLEY_SMTP_CA_FILE``). With ``login`` it takes AUTH
LOGIN/PLAIN for that user and password, over TLS only (aiosmtpd's default).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.ports import free_port

WAIT = 15.0
LOOPBACK = ipaddress.ip_address("127.0.0.1")


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool  # came over TLS (STARTTLS)
    user: str | None  # who logged in, if anyone

    def part(self, subtype: str) -> str:
        body = self.message.get_body((subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content()).replace("\r\n", "\n")  # lines as written, not as sent


class Recorder:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.script: list[str] = []
        self.mails: list[Mail] = []
        self.attempts = 0
        self._arrived: asyncio.Queue[Mail] = asyncio.Queue()
        self._attempts: asyncio.Queue[str] = asyncio.Queue()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.script:
            reply = self.script.pop(0)
            self.loop.call_soon_threadsafe(self._attempts.put_nowait, reply)
            return reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        user = session.auth_data.login.decode() if session.authenticated else None
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        mail = Mail(envelope.mail_from, list(envelope.rcpt_tos), message, tls, user)  # type: ignore[arg-type]
        self.mails.append(mail)
        self.loop.call_soon_threadsafe(self._arrived.put_nowait, mail)
        self.loop.call_soon_threadsafe(self._attempts.put_nowait, "250 OK")
        return "250 OK"

    async def next(self, timeout: float = WAIT) -> Mail:
        async with asyncio.timeout(timeout):
            return await self._arrived.get()

    async def attempt(self, timeout: float = WAIT) -> str:
        """The reply to the next ``DATA``, whatever it was."""
        async with asyncio.timeout(timeout):
            return await self._attempts.get()

    def pending(self) -> int:
        """Mails accepted and not yet taken with ``next``."""
        return self._arrived.qsize()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@dataclass
class SmtpServer:
    recorder: Recorder
    port: int
    certificate: Path | None

    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@contextmanager
def smtp_server(
    directory: Path, *, tls: bool = False, implicit: bool = False, login: tuple[str, str] | None = None
) -> Iterator[SmtpServer]:
    recorder = Recorder(asyncio.get_running_loop())
    options: dict[str, Any] = {}
    certificate = None
    if tls or implicit:
        certificate, key = self_signed(directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        # STARTTLS offered on a plain connection, or TLS from the first byte (smtps://)
        options["ssl_context" if implicit else "tls_context"] = context
    if login is not None:

        def check(_server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == login
            return AuthResult(success=ok, handled=False, auth_data=data)

        options["authenticator"] = check
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer(recorder, port, certificate)
    finally:
        controller.stop()
