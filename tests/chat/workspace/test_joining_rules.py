"""Joining's rules without a server (PROTOCOL.md section 19): domains as stored, who an address
lets in, the settings as read from their rows, and the invite's own state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from db.workspace.records import InviteRecord
from server.chat.workspace.rules import JoinRules
from server.chat.workspace.schemas import InvitationIn, NewUserIn, WorkspaceSettingsIn, check_domain

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Example.ORG", "example.org"),
        ("example.org.", "example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("mail-1.example.co.uk", "mail-1.example.co.uk"),
    ],
)
def test_a_domain_is_stored_lower_cased_in_its_ascii_form(given, stored):
    assert check_domain(given) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "localhost",
        "exa mple.org",
        "-bad.org",
        "bad-.org",
        "a..b",
        "@example.org",
        "x.123",
        "a" * 64 + ".org",
        "",
    ],
)
def test_a_bad_domain_is_refused(bad):
    with pytest.raises(ValueError):
        check_domain(bad)


def test_domains_are_distinct_and_bounded():
    assert WorkspaceSettingsIn(allowed_domains=["A.org", "a.org", "b.org"]).allowed_domains == [
        "a.org",
        "b.org",
    ]
    with pytest.raises(ValidationError):
        WorkspaceSettingsIn(allowed_domains=[f"d{n}.org" for n in range(51)])
    with pytest.raises(ValidationError):
        WorkspaceSettingsIn(registration="maybe")  # type: ignore[arg-type]


def test_an_address_joins_only_inside_the_domains():
    anyone = JoinRules("open", (), False)
    assert anyone.allows(None) and anyone.allows("x@anywhere.net")
    some = JoinRules("open", ("example.org",), False)
    assert some.allows("Nora@EXAMPLE.org")
    assert not some.allows("nora@sub.example.org")  # exactly the domain, not a subdomain
    assert not some.allows("nora@example.org.evil.net")
    assert not some.allows(None)  # an address is needed once domains are set


def test_an_invite_is_usable_until_used_up_expired_or_revoked():
    invite = InviteRecord(1, 1, NOW, NOW + timedelta(days=1), 2, 1, None, (), None, None)
    assert invite.usable(NOW) and invite.uses_left == 1
    assert not InviteRecord(1, 1, NOW, NOW + timedelta(days=1), 2, 2, None, (), None, None).usable(NOW)
    assert not invite.usable(NOW + timedelta(days=1))
    assert not InviteRecord(1, 1, NOW, NOW + timedelta(days=1), 2, 0, None, (), None, NOW).usable(NOW)


def test_invitation_bounds():
    assert InvitationIn().max_uses == 1 and InvitationIn().expires_in == 7 * 86400
    for bad in ({"max_uses": 0}, {"max_uses": 1001}, {"expires_in": 59}, {"expires_in": 90 * 86400 + 1}):
        with pytest.raises(ValidationError):
            InvitationIn.model_validate(bad)
    with pytest.raises(ValidationError):
        InvitationIn(topics=[f"t{n}" for n in range(21)])
    with pytest.raises(ValidationError):
        NewUserIn(username="pat", password="short")
