"""The workspace's administration over REST for its owners and admins (PROTOCOL.md section 19):
the public topics and who owns them, the reports, the audit log and the erasure of an account —
what the page's administration view shows besides the users, the settings and the invites.

Every route asks the caller's workspace role when it is called (``chat.roles``, kept exact on
every node), so a demotion counts at once, on every node; anyone else gets 403 ``forbidden``.
These are the operator's powers of the Admin UI's pages (``admin_reports.py``, ``admin_audit.py``:
HTTP Basic, for the operator), given to the people who run the workspace, with their own names in
the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from server.chat.kernel.actors import Actor, Doer
from server.chat.kernel.errors import forbidden
from server.chat.kernel.schemas import MAX_STORED_INT, Username
from server.chat.kernel.schemas import In as InModel
from server.chat.operators.schemas import ErasureOut, MessageRemovedOut, TopicRowOut, TopicRowsOut
from server.chat.rules.workspace import OWNER, administers, require_admin
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.admin_audit import AuditListing
from server.edge.rest.errors import RESPONSES
from server.edge.rest.topics import Name

router = APIRouter(prefix="/api/admin", tags=["administration"], responses=RESPONSES)
PLACE = 210  # its place among the API's routes and in the OpenAPI document (api.py)
UserPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{3,32}$")]
MessageId = Annotated[int, Path(ge=1, le=MAX_STORED_INT)]


async def workspace_admin(actor: ActorDep, chat: ChatDep) -> Actor:
    """The caller, when they administer the workspace now (``forbidden`` otherwise)."""
    require_admin(chat.roles.of(actor.id))
    return actor


AdminDep = Annotated[Actor, Depends(workspace_admin)]


class OwnerBody(InModel):
    username: Username


@router.get("/topics")
async def topics(_admin: AdminDep, chat: ChatDep) -> TopicRowsOut:
    """Every public topic (private ones stay their members' own), oldest first."""
    listed = await chat.topic_admin.list()
    return TopicRowsOut(topics=[row for row in listed.topics if row.kind == "public"])


@router.put("/topics/{name}/owner")
async def transfer(name: Name, body: OwnerBody, admin: AdminDep, chat: ChatDep) -> TopicRowOut:
    """Give a public topic to another person: they own it, its owner before them stays an admin.
    A private topic is its members' own: ``not_found``, as for a topic that does not exist."""
    return await chat.topic_admin.transfer(name, body.username, by=Doer.of(admin), public_only=True)


@router.get("/reports")
async def reports(_admin: AdminDep, chat: ChatDep) -> Any:
    return (await chat.reports.newest()).model_dump(mode="json")


@router.delete("/messages/{message_id}")
async def remove_message(message_id: MessageId, admin: AdminDep, chat: ChatDep) -> MessageRemovedOut:
    """A reported message removed, as its sender would (the audit row names the admin)."""
    removed = await chat.messages.remove(message_id, by=Doer.of(admin))
    return MessageRemovedOut(id=message_id, deleted=removed)


@router.get("/audit")
async def audit(_admin: AdminDep, listed: AuditListing) -> Any:
    """The audit log, newest first, as ``parley audit`` lists it (reading it writes no row)."""
    return listed


@router.delete("/users/{username}")
async def erase(username: UserPath, admin: AdminDep, chat: ChatDep) -> ErasureOut:
    """Erase an account (PROTOCOL.md section 16), as ``parley user delete --erase``: an admin may
    not erase an owner or another admin (only an owner may), and nobody erases themselves here
    (``DELETE /api/users/me`` asks for the password)."""
    async with chat.db.read() as repos:
        target = await repos.users.by_name(username)
    if target is not None:
        if target.id == admin.id:
            raise forbidden("erase your own account with DELETE /api/users/me")
        if administers(chat.roles.of(target.id)) and chat.roles.of(admin.id) != OWNER:
            raise forbidden("only an owner erases an owner or an admin")
    return await chat.erasure.erase(username, by=Doer.of(admin))
