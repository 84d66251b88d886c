"""A user's sessions and password (PROTOCOL.md section 19): the list of sessions, signing one or
all others out, changing the password, and the password reset by mail (the request, the
confirmation, an admin's)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from server.chat.accounts.schemas import PasswordChangeIn, PasswordResetConfirmIn, PasswordResetIn, SessionOut
from server.chat.kernel.schemas import Empty
from server.edge.http import ActorDep, AddressDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(prefix="/api", tags=["sessions"], responses=RESPONSES)
PLACE = 240  # its place among the API's routes and in the OpenAPI document (api.py)


@router.get("/users/me/sessions")
async def sessions(actor: ActorDep, chat: ChatDep) -> list[SessionOut]:
    """The caller's open sessions, the last used first; ``current``: this request's."""
    return await chat.auth_sessions.listed(actor)


@router.delete("/users/me/sessions/{session_id}", status_code=204)
async def end_session(session_id: str, actor: ActorDep, chat: ChatDep) -> Response:
    """Sign one session out: its tokens refused and its sockets closed, on every node."""
    await chat.auth_sessions.end(actor, session_id)
    return Response(status_code=204)


@router.delete("/users/me/sessions", status_code=204)
async def end_other_sessions(actor: ActorDep, chat: ChatDep) -> Response:
    """Sign out every session but this one."""
    await chat.auth_sessions.end_others(actor)
    return Response(status_code=204)


@router.post("/users/me/password", status_code=204)
async def change_password(
    data: PasswordChangeIn, actor: ActorDep, chat: ChatDep, address: AddressDep
) -> Response:
    """Change the password with the current one; every other session is signed out."""
    await chat.passwords.change(actor, data, address)
    return Response(status_code=204)


@router.post("/auth/password-reset", status_code=202)
async def password_reset(data: PasswordResetIn, chat: ChatDep, address: AddressDep) -> Empty:
    """Always 202 ``{}``: a reset link is mailed when the account exists and has a verified email."""
    await chat.passwords.request_reset(data, address)
    return Empty()


@router.post("/auth/password-reset/confirm", status_code=204)
async def password_reset_confirm(data: PasswordResetConfirmIn, chat: ChatDep) -> Response:
    """Set the password of a reset link's code (once, 30 minutes); every session signed out."""
    await chat.passwords.confirm_reset(data)
    return Response(status_code=204)


@router.post("/admin/users/{username}/password-reset", status_code=202)
async def admin_password_reset(username: str, actor: ActorDep, chat: ChatDep) -> Empty:
    """An owner or admin mails the user a reset link (202 ``{}``)."""
    await chat.passwords.admin_reset(actor, username)
    return Empty()
