"""The workspace's roles as pure rules (PROTOCOL.md section 19): who acts as a topic's admin, who
may change whose role."""

from __future__ import annotations

import pytest

from server.chat.kernel.errors import ChatError
from server.chat.rules.authority import Act, Standing, check
from server.chat.rules.workspace import check_role_change, in_topic, require_admin

MEMBER = Standing("member")


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_a_workspace_owner_or_admin_acts_as_admin_in_a_public_topic(role):
    standing = in_topic(MEMBER, role, "public")
    assert standing.role == "admin"
    check(Act.BAN, standing, target=MEMBER)  # section 10's powers: does not raise


@pytest.mark.parametrize("kind", ["private", "direct"])
def test_a_workspace_admin_has_no_power_in_a_private_topic_or_a_direct_conversation(kind):
    assert in_topic(MEMBER, "admin", kind) == MEMBER


def test_a_member_of_the_workspace_keeps_the_topic_role_they_have():
    assert in_topic(MEMBER, "member", "public") == MEMBER
    assert in_topic(Standing("moderator"), "member", "public").role == "moderator"


def test_a_topic_owner_stays_owner_when_they_also_administer_the_workspace():
    assert in_topic(Standing("owner"), "admin", "public").role == "owner"


def test_a_workspace_admin_still_acts_only_on_lower_ranks_of_the_topic():
    with pytest.raises(ChatError, match="acts only on lower ranks"):
        check(Act.KICK, in_topic(MEMBER, "admin", "public"), target=Standing("owner"))


def test_a_mute_in_the_topic_still_silences_a_workspace_admin():
    muted = Standing("member", muted=True)
    with pytest.raises(ChatError, match="you are muted"):
        check(Act.POST, in_topic(muted, "owner", "public"))


def test_only_owners_and_admins_pass_require_admin():
    require_admin("owner")
    require_admin("admin")
    with pytest.raises(ChatError) as refused:
        require_admin("member")
    assert refused.value.code.value == "forbidden"


@pytest.mark.parametrize(
    ("actor", "current", "new", "owners", "allowed"),
    [
        ("owner", "member", "admin", 1, True),
        ("owner", "admin", "owner", 1, True),
        ("owner", "owner", "member", 2, True),
        ("owner", "owner", "admin", 1, False),  # the last owner
        ("admin", "member", "admin", 1, False),  # only an owner makes admins
        ("admin", "admin", "member", 1, False),  # ... or unmakes them
        ("admin", "member", "member", 1, True),
        ("member", "member", "admin", 1, False),
    ],
)
def test_who_may_change_a_workspace_role(actor, current, new, owners, allowed):
    if allowed:
        check_role_change(actor, current, new, owners)
    else:
        with pytest.raises(ChatError):
            check_role_change(actor, current, new, owners)


def test_a_role_that_does_not_exist_is_a_value_error():
    with pytest.raises(ValueError):
        check_role_change("owner", "member", "superuser", 1)
