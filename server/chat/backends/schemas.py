"""DTOs of the server keys (PROTOCOL.md section 17)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from server.chat.kernel.schemas import (
    ClientId,
    In,
    MessageOut,
    Out,
    TopicName,
    TopicOut,
    ToTarget,
    Username,
    check_body,
)
from server.chat.notifications.schemas import check_address
from server.chat.people.schemas import Label

MAX_TOKEN_TTL = 30 * 24 * 3600  # seconds: the longest a token minted for a backend's user lives

SCOPES = ("publish", "members", "presence", "users", "disconnect", "as_user")
"""What a server key may be granted (PROTOCOL.md section 17), here beside the shapes so that
``parley --help`` lists them without loading the data layer."""
DEFAULT_SCOPES = frozenset(SCOPES) - {"as_user"}


class KeyCreatedOut(Out):
    """The key itself: shown this once, never again (only its hash is kept)."""

    id: str
    key: str
    label: str
    scopes: list[str]


class KeyInfoOut(Out):
    id: str
    label: str
    scopes: list[str]
    bot: str
    created_at: str


class KeysOut(Out):
    keys: list[KeyInfoOut]


# The server API's requests (PROTOCOL.md section 17) ---------------------------------------------

MAX_BROADCAST = 100  # topics one broadcast may name


class PublishIn(ToTarget):
    """``POST /api/server/messages``: a topic or a user (``to``), the body, optionally the user it
    is sent as (``as``, with the ``as_user`` scope) and the sender's ``client_id``."""

    body: str
    as_: Username | None = Field(default=None, alias="as")
    client_id: ClientId | None = None

    _body = field_validator("body")(check_body)


class BroadcastIn(In):
    topics: Annotated[list[TopicName], Field(min_length=1, max_length=MAX_BROADCAST)]
    body: str

    _body = field_validator("body")(check_body)

    @field_validator("topics")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len({name.lower() for name in value}) != len(value):
            raise ValueError("must not name a topic twice")
        return value


class MessagesOut(Out):
    messages: list[MessageOut]


class MemberIn(In):
    role: Literal["member", "moderator", "admin"] = "member"


class MemberSetOut(Out):
    """The membership as it is now: ``added`` false when the user was a member already."""

    topic: TopicOut
    username: str
    added: bool


class MemberRemovedOut(Out):
    """``removed`` false when the user was no member (nothing changed)."""

    removed: bool


class ServerTopicIn(In):
    name: TopicName
    private: bool = False
    owner: Username | None = None


class ServerUserIn(In):
    display_name: Label | None = None
    email: Annotated[str, AfterValidator(check_address)] | None = None


class ServerUserOut(Out):
    username: str
    display_name: str | None
    email: str | None
    created: bool


class UserTokenIn(In):
    ttl: Annotated[int, Field(ge=60, le=MAX_TOKEN_TTL)] | None = None


class UserTokenOut(Out):
    token: str
    expires_at: str


class DisconnectIn(In):
    revoke: bool = False


class KeyIn(In):
    """A key to make (the administration view): its label, and its scopes (all but ``as_user``
    unless given)."""

    label: str
    scopes: list[Literal["publish", "members", "presence", "users", "disconnect", "as_user"]] | None = None
