"""The signed links of email (PROTOCOL.md section 15), without a server: each kind is good for its
own purpose only, with the secret it was made with, and a verification link expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from server.chat.accounts.security import TokenCodec
from server.chat.kernel.errors import ChatError
from server.chat.notifications.tokens import LinkRefused, MailTokens

SECRET = "s" * 40
LATER = datetime.now(UTC) + timedelta(hours=24)


def test_a_verification_link_carries_the_user_the_address_and_the_nonce():
    tokens = MailTokens(SECRET)
    found = tokens.read_verification(tokens.verification(7, "a@example.com", "n" * 32, LATER))
    assert (found.user_id, found.address, found.nonce) == (7, "a@example.com", "n" * 32)


def test_an_expired_verification_link_is_told_apart():
    tokens = MailTokens(SECRET)
    old = tokens.verification(7, "a@example.com", "n", datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(LinkRefused) as refused:
        tokens.read_verification(old)
    assert refused.value.expired


def test_an_unsubscribe_link_carries_the_user_and_the_email_version_and_expires():
    tokens = MailTokens(SECRET)
    found = tokens.read_unsubscribe(tokens.unsubscribe(7, 3, LATER))
    assert (found.user_id, found.version) == (7, 3)
    old = tokens.unsubscribe(7, 3, datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(LinkRefused) as refused:
        tokens.read_unsubscribe(old)
    assert refused.value.expired


def test_an_unsubscribe_link_without_a_version_or_an_expiry_is_refused():
    """The links of mails sent before links had either: they never expired, so they are void."""
    now = int(datetime.now(UTC).timestamp())
    for claims in (
        {"pur": "unsubscribe", "sub": "7", "iat": now},
        {"pur": "unsubscribe", "sub": "7", "ver": 0},
    ):
        with pytest.raises(LinkRefused) as refused:
            MailTokens(SECRET).read_unsubscribe(jwt.encode(claims, SECRET, algorithm="HS256"))
        assert not refused.value.expired


def test_each_kind_is_good_for_its_own_purpose_and_secret_only():
    tokens, other = MailTokens(SECRET), MailTokens("o" * 40)
    verify = tokens.verification(7, "a@example.com", "n", LATER)
    unsubscribe = tokens.unsubscribe(7, 0, LATER)
    login, _ = TokenCodec(SECRET, 3600).issue(7, 0)
    for wrong in (unsubscribe, login, other.verification(7, "a@example.com", "n", LATER), "x.y.z"):
        with pytest.raises(LinkRefused) as refused:
            tokens.read_verification(wrong)
        assert not refused.value.expired
    for wrong in (verify, login, other.unsubscribe(7, 0, LATER), ""):
        with pytest.raises(LinkRefused):
            tokens.read_unsubscribe(wrong)
    for link in (verify, unsubscribe):  # never a login token either
        with pytest.raises(ChatError):
            TokenCodec(SECRET, 3600).decode(link)
