"""The server API's keys for the workspace's owners and admins (PROTOCOL.md sections 17 and 19):
what ``parley keys`` does, from the page's administration view. A key is in the answer that makes
it, and never again; a revoked key is refused at once on every node. Anyone else gets 403
``forbidden``; the audit log names the admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from server.chat.backends.schemas import KeyCreatedOut, KeyIn, KeysOut
from server.chat.kernel.actors import Doer
from server.chat.kernel.schemas import Empty
from server.edge.http import ChatDep
from server.edge.rest.admin_workspace import AdminDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api/admin/keys", tags=["administration"], responses=RESPONSES)
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.get("")
async def keys(_admin: AdminDep, chat: ChatDep) -> KeysOut:
    """The keys not revoked (their labels, scopes and bots; never the keys), oldest first."""
    return await chat.server_keys.list()


@router.post("", status_code=201)
async def create(data: KeyIn, admin: AdminDep, chat: ChatDep) -> KeyCreatedOut:
    """A new key, shown in this answer only."""
    return await chat.server_keys.create(data.label, data.scopes, by=Doer.of(admin))


@router.delete("/{key_id}")
async def revoke(key_id: KeyId, admin: AdminDep, chat: ChatDep) -> Empty:
    """Revoke a key: every node refuses it from now on."""
    await chat.server_keys.revoke(key_id, by=Doer.of(admin))
    return Empty()
