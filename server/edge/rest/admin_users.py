"""The workspace's users over REST for its owners and admins (PROTOCOL.md section 19): the listing
and the change of a role or of whether an account is disabled (``WorkspaceUsers``). Anyone else
gets 403 ``forbidden``; an unknown user 404 ``not_found``. The listing is paged by name: at most
``limit`` accounts (50 by default, 200 at most), and ``next``, the ``after`` of the next page.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from server.chat.operators.schemas import AdminUserIn, AdminUserOut, AdminUsersOut
from server.chat.operators.workspace_users import MAX_PAGE, PAGE
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api/admin/users", tags=["administration"], responses=RESPONSES)
PLACE = 220  # its place among the API's routes and in the OpenAPI document (api.py)
UserPath = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("")
async def users(
    actor: ActorDep,
    chat: ChatDep,
    q: Annotated[str, Query(max_length=64)] = "",
    role: Literal["owner", "admin", "member"] | None = None,
    disabled: bool | None = None,
    after: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = PAGE,
) -> AdminUsersOut:
    """The accounts by name, with their role, state, last seen and sign-in methods (owners and
    admins): ``q`` a part of the username or display name, ``role`` and ``disabled`` filters."""
    return await chat.workspace_users.list(actor, q, role, disabled, after, limit)


@router.patch("/{name}")
async def update(name: UserPath, data: AdminUserIn, actor: ActorDep, chat: ChatDep) -> AdminUserOut:
    """``{"role"?, "disabled"?}``: only an owner grants or removes ``owner`` and ``admin``, an admin
    disables members and admins; the last owner stays one and stays enabled. Audited."""
    return await chat.workspace_users.update(actor, name, data.role, data.disabled)
