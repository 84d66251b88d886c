"""Web Push's sending side (PROTOCOL.md section 15) without a server: the VAPID key kept in the
data directory or given (PEM or raw base64url), the RFC 8291 encryption (decrypted by http_ece,
an implementation other than ours) and the RFC 8292 token."""

from __future__ import annotations

import os
import stat
import time

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.adapters.webhook_http import AddressGuard
from server.adapters.webpush import (
    KEY_FILE,
    WebPushSender,
    b64url,
    encrypt,
    kept_private_key,
    origin,
    parse_private_key,
    public_bytes,
    push_sender,
)
from server.chat.kernel.outbound import AddressRefused


def test_the_key_is_generated_once_into_the_data_directory_readable_by_its_owner_only(tmp_path):
    first = kept_private_key(tmp_path / "data")
    again = kept_private_key(tmp_path / "data")

    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_bytes(first.public_key()) == public_bytes(again.public_key())
    assert [p.name for p in (tmp_path / "data").iterdir()] == [KEY_FILE]  # no temporary left


def test_a_given_key_is_accepted_as_pem_or_raw_base64url_and_its_public_key_is_65_bytes(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    raw = b64url(key.private_numbers().private_value.to_bytes(32, "big"))

    from_pem, from_raw = (
        push_sender(tmp_path, pem, "mailto:a@b", []),
        push_sender(tmp_path, raw, "mailto:a@b", []),
    )

    assert from_pem.public_key == from_raw.public_key == b64url(public_bytes(key.public_key()))
    assert len(public_bytes(key.public_key())) == 65 and not (tmp_path / KEY_FILE).exists()
    with pytest.raises(ValueError):
        parse_private_key(b64url(os.urandom(31)))


def test_a_payload_is_encrypted_as_aes128gcm_for_the_subscriptions_keys():
    browser = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    payload = b'{"type": "message", "body": "hello"}'

    body = encrypt(payload, public_bytes(browser.public_key()), auth)

    assert http_ece.decrypt(body, private_key=browser, auth_secret=auth, version="aes128gcm") == payload
    assert int.from_bytes(body[16:20], "big") == 4096 and body[20] == 65  # RFC 8188's header


def test_the_vapid_token_names_the_endpoints_origin_and_is_kept_per_origin():
    key = ec.generate_private_key(ec.SECP256R1())
    sender = WebPushSender(key, "mailto:ops@example.com", AddressGuard())
    now = time.time()
    header = sender.authorization("https://push.example:8443/send/abc", now=now)

    token, public = header.removeprefix("vapid t=").split(", k=")
    claims = jwt.decode(token, key.public_key(), algorithms=["ES256"], audience="https://push.example:8443")
    assert public == sender.public_key and claims["sub"] == "mailto:ops@example.com"
    assert 0 < claims["exp"] - now <= 24 * 3600
    assert sender.authorization("https://push.example:8443/other", now=now + 10) == header  # kept
    assert sender.authorization("https://push.example:8443/x", now=now + 12 * 3600) != header  # renewed
    assert origin("https://push.example/x?y") == "https://push.example"


async def test_an_endpoint_must_be_https_or_http_for_an_allowed_host_and_reach_an_allowed_address():
    sender = WebPushSender(ec.generate_private_key(ec.SECP256R1()), "mailto:a@b", AddressGuard(["127.0.0.1"]))
    await sender.check("http://127.0.0.1:9/push")
    for refused in ("http://93.184.215.14/push", "https://10.0.0.1/push", "https://127.0.0.2/push"):
        with pytest.raises(AddressRefused):
            await sender.check(refused)
    await sender.close()
