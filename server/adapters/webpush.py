"""Web Push's sending side (PROTOCOL.md section 15): the VAPID key pair, the payload's encryption
and the request to a push service, through the webhooks' guarded poster.

- **Keys.** The VAPID key (ECDSA P-256) is ``PARLEY_VAPID_PRIVATE_KEY`` when set (a PEM, or the
  raw 32-byte scalar in base64url, as ``web-push generate-vapid-keys`` prints it), which several
  nodes must share; else it is generated at first start into ``<data_dir>/vapid_private_key.pem``
  (0600, written to a temporary file and linked into place, so two processes starting at once
  keep one). The application server key the browser subscribes with is its public point,
  uncompressed (65 bytes), in base64url.
- **Encryption** (RFC 8291 over RFC 8188 ``aes128gcm``): an ephemeral P-256 key per push, ECDH
  with the subscription's ``p256dh``, the input key from HKDF keyed by its ``auth`` secret, a
  random salt, one record (the payload and the ``0x02`` delimiter; a push's payload is far below
  the 4096-byte record size).
- **VAPID** (RFC 8292): ``Authorization: vapid t=<ES256 JWT>, k=<public key>``; the JWT's ``aud``
  is the endpoint's origin, ``exp`` 12 hours ahead (the RFC's limit is 24), ``sub``
  ``PARLEY_VAPID_SUBJECT``. A token is kept per origin and signed again when less than an hour is
  left.
- **Transport.** ``check`` and ``send`` go through an ``AddressGuard`` of their own
  (``PARLEY_PUSH_ALLOW_HOSTS``): an endpoint must be ``https``, or ``http`` for a host in that
  list (a test's or a LAN's push service), and resolve only to addresses the guard lets through;
  ``send`` posts with ``HttpPoster``, which connects to the address it checked.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.adapters.webhook_http import AddressGuard, HttpPoster
from server.chat.kernel.outbound import AddressRefused, Response
from server.config import VAPID_KEY_FILE as KEY_FILE

RECORD_SIZE = 4096
TOKEN_LIFE = 12 * 3600  # seconds a VAPID token is valid (RFC 8292: at most 24 hours)
TOKEN_MARGIN = 3600  # a kept token is signed again when less than this is left
CURVE = ec.SECP256R1()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """base64url with or without padding (browsers give it without); raises ``ValueError``."""
    cleaned = text.strip()
    return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))


def public_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def parse_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from a PEM or from the raw scalar in base64url; raises ``ValueError``."""
    if "-----BEGIN" in text:
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != CURVE.name:
            raise ValueError("the VAPID key must be an EC P-256 private key")
        return key
    raw = unb64url(text)
    if len(raw) != 32:
        raise ValueError("a raw VAPID key is 32 bytes in base64url")
    return ec.derive_private_key(int.from_bytes(raw, "big"), CURVE)


def kept_private_key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The key in the data directory, generated there first if there is none."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(CURVE).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        temporary = data_dir / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(temporary, path)  # atomic; another process may have won the race
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return parse_private_key(path.read_text())


def _hkdf(secret: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(secret)


def encrypt(payload: bytes, p256dh: bytes, auth: bytes, salt: bytes | None = None) -> bytes:
    """The push message body: RFC 8188's header (salt, record size, the sender's public key) and
    one ``aes128gcm`` record of ``payload``, keyed per RFC 8291."""
    receiver = ec.EllipticCurvePublicKey.from_encoded_point(CURVE, p256dh)
    ephemeral = ec.generate_private_key(CURVE)
    sender = public_bytes(ephemeral.public_key())
    shared = ephemeral.exchange(ec.ECDH(), receiver)
    ikm = _hkdf(shared, auth, b"WebPush: info\x00" + p256dh + sender, 32)
    salt = salt if salt is not None else os.urandom(16)
    cek = _hkdf(ikm, salt, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(ikm, salt, b"Content-Encoding: nonce\x00", 12)
    record = AESGCM(cek).encrypt(nonce, payload + b"\x02", None)
    return salt + RECORD_SIZE.to_bytes(4, "big") + bytes([len(sender)]) + sender + record


def origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port is not None else "")


class WebPushSender:
    """The notifications' ``PushSender`` port."""

    def __init__(
        self, key: ec.EllipticCurvePrivateKey, subject: str, guard: AddressGuard, timeout: float = 10.0
    ) -> None:
        self.key = key
        self.subject = subject
        self.guard = guard
        self.poster = HttpPoster(guard, timeout, lazy=True)  # its client at the first push
        self.public_key = b64url(public_bytes(key.public_key()))
        self._tokens: dict[str, tuple[str, float]] = {}  # origin -> (JWT, its expiry)

    async def check(self, endpoint: str) -> None:
        """Raise ``AddressRefused`` for an endpoint pushes may not go to."""
        self._scheme(endpoint)
        await self.guard.check(endpoint)

    def _scheme(self, endpoint: str) -> None:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" and not (parts.scheme == "http" and host in self.guard.allow_hosts):
            raise AddressRefused("a push endpoint must be an https URL")

    def authorization(self, endpoint: str, now: float | None = None) -> str:
        audience = origin(endpoint)
        now = time.time() if now is None else now
        kept = self._tokens.get(audience)
        if kept is None or kept[1] - now < TOKEN_MARGIN:
            expires = int(now) + TOKEN_LIFE
            claims = {"aud": audience, "exp": expires, "sub": self.subject}
            kept = (jwt.encode(claims, self.key, algorithm="ES256"), float(expires))
            self._tokens[audience] = kept
        return f"vapid t={kept[0]}, k={self.public_key}"

    async def send(self, endpoint: str, p256dh: str, auth: str, payload: bytes) -> Response:
        """POST the encrypted ``payload`` (the poster checks the address it connects to); raises
        ``AddressRefused`` or ``DeliveryFailed``."""
        self._scheme(endpoint)
        body = encrypt(payload, unb64url(p256dh), unb64url(auth))
        headers = {
            "TTL": "86400",
            "Urgency": "high",
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "Authorization": self.authorization(endpoint),
        }
        return await self.poster.post(endpoint, headers, body)

    async def close(self) -> None:
        await self.poster.close()


def push_sender(
    data_dir: Path, private_key: str | None, subject: str, allow_hosts: list[str], timeout: float = 10.0
) -> WebPushSender:
    """The sender from the settings' values: the given key, or the one kept in ``data_dir``."""
    key = parse_private_key(private_key) if private_key else kept_private_key(data_dir)
    return WebPushSender(key, subject, AddressGuard(allow_hosts), timeout)
