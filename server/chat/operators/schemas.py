"""DTOs of the operator commands (``parley user|topic|stats``): what the services return.

The command line renders them as a table or, with ``--json``, as one JSON document
(``model_dump(mode="json")``), so these field names are the JSON keys operators script against.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from server.chat.kernel.schemas import In, check_text

MIN_PASSWORD_BYTES, MAX_PASSWORD_BYTES = 8, 72


class PasswordIn(In):
    """A new password: 8 to 72 bytes of UTF-8 (bcrypt's limit), like a sign-up's."""

    password: str

    @field_validator("password")
    @classmethod
    def _bytes(cls, value: str) -> str:
        size = len(check_text(value).encode())
        if not MIN_PASSWORD_BYTES <= size <= MAX_PASSWORD_BYTES:
            raise ValueError(f"must be {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes (UTF-8)")
        return value


class AccountOut(BaseModel):
    username: str
    role: Literal["owner", "admin", "member"]  # the workspace role (PROTOCOL.md section 19)
    state: Literal["active", "disabled", "deleted"]
    created_at: str
    last_seen: str | None


class AccountsOut(BaseModel):
    users: list[AccountOut]


class DeletedAccountOut(BaseModel):
    username: str
    placeholder: str  # the name the kept messages now show as their sender
    messages_kept: int
    memberships_removed: int


class TopicRowOut(BaseModel):
    name: str
    kind: Literal["public", "private", "direct"]
    owner: str | None
    members: int
    last_seq: int
    created_at: str
    archived: bool = False


class TopicRowsOut(BaseModel):
    topics: list[TopicRowOut]


class RenamedOut(BaseModel):
    old_name: str
    topic: TopicRowOut


class NodeOut(BaseModel):
    node: str  # host:pid:tag of the server process
    sockets: int  # open connections: Socket.IO and gateway sockets
    users: int  # users with at least one of those sockets
    started_at: str
    beat_at: str  # when the row was last written (every PARLEY_PRESENCE_TTL / 3 seconds)


class StatsOut(BaseModel):
    users: dict[str, int]  # active, disabled, deleted
    topics: dict[str, int]  # public, private, direct
    messages: int  # stored, deleted ones' tombstones included
    nodes: list[NodeOut]  # every running server (empty: none is running)


class MessageRemovedOut(BaseModel):
    id: int
    deleted: bool  # False: it was deleted already


class ErasureIn(In):
    """``DELETE /api/users/me``'s body (PROTOCOL.md section 16): the account's password."""

    password: str = Field(min_length=1, max_length=MAX_PASSWORD_BYTES)


class ErasureOut(BaseModel):
    """An erasure begun: the account is disabled; ``messages`` of it become tombstones, off the
    request (``erasing``; ``erased`` when the command line ran the job to its end itself)."""

    username: str
    state: Literal["erasing", "erased"]
    messages: int
    memberships_removed: int
    bots_disabled: int


# The workspace's users administered (PROTOCOL.md section 19) -------------------------------

Role = Literal["owner", "admin", "member"]


class AdminUserOut(BaseModel):
    """An account as owners and admins list it: ``methods`` are how it signs in (``password``,
    ``sso``; a bot's ``token``)."""

    username: str
    display_name: str
    role: Role
    state: Literal["active", "disabled"]
    bot: bool
    created_at: str
    last_seen: str | None
    methods: list[Literal["password", "sso", "token"]]


class AdminUsersOut(BaseModel):
    """A page of accounts by name; ``next``: pass it as ``after`` for the next page (null: the last)."""

    users: list[AdminUserOut]
    next: str | None


class AdminUserIn(In):
    """``PATCH /api/admin/users/{name}``: a new role and/or whether the account is disabled."""

    role: Role | None = None
    disabled: bool | None = None


class RoleOut(BaseModel):
    """``parley user role``: the account's role now, and before."""

    username: str
    role: Role
    was: Role
