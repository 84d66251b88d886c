"""The Admin UI's Reports page at ``/admin/reports`` (PROTOCOL.md section 10), beside the Socket.IO
Admin UI and behind the same account (``PARLEY_ADMIN_USERNAME`` / ``PARLEY_ADMIN_PASSWORD``).

The page lists the reported messages, newest first, and offers the operator's actions on each:
delete the message (``MessageService.remove``, as its sender would) and disable its sender
(``AccountService.disable``, as ``parley user disable``). Its script calls the JSON routes below
with the credentials typed into its form as HTTP Basic (never stored beyond the tab's
``sessionStorage``); a wrong login counts against the address's failed Admin UI logins. With
``PARLEY_ADMIN_READ_ONLY`` on (the default) the page lists and the actions are ``forbidden``.
Mounted only with the Admin UI (``PARLEY_ADMIN_UI=1``). The page is ``admin_reports.html`` beside
this module; its script is ``web/js/admin_reports.js``, served at ``/admin/parley-reports.js``.
"""

from __future__ import annotations

import base64
import binascii
import functools
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from server.chat.kernel.actors import Doer, admin_ui
from server.chat.kernel.errors import ChatError, ErrorCode, forbidden, not_found
from server.chat.kernel.schemas import MAX_STORED_INT
from server.chat.moderation.schemas import ReportsOut
from server.chat.operators.schemas import AccountOut, MessageRemovedOut
from server.edge.http import AddressDep, ChatDep

router = APIRouter(include_in_schema=False)
MessageId = Annotated[int, Path(ge=1, le=MAX_STORED_INT)]
UserName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{3,32}$")]
PAGE = FilePath(__file__).with_name("admin_reports.html")
SCRIPT = FilePath("js", "admin_reports.js")  # in the web folder (PARLEY_WEB_DIR), beside admin_search.js


async def operator(request: Request, address: AddressDep, chat: ChatDep) -> Any:
    """The Admin UI's account check for one request (HTTP Basic); the Admin UI instrumentation.
    Wrong credentials write an ``admin.login_refused`` audit row (with the address, never what
    was typed); a limited address is refused without one (a flood writes nothing)."""
    admin = getattr(request.app.state, "admin", None)
    if admin is None:
        raise not_found("the Admin UI is off")
    wait = admin.failures.retry_after(address)
    if wait > 0:
        raise ChatError(ErrorCode.RATE_LIMITED, "too many failed logins; try later", retry_after=wait)
    if not admin.accepts(_basic(request.headers.get("authorization"))):
        admin.failures.take(address)
        await chat.audit.record(
            admin_ui(None), "admin.login_refused", details={"via": "page", "address": address}
        )
        raise ChatError(ErrorCode.UNAUTHORIZED, "invalid credentials")
    return admin


Operator = Annotated[Any, Depends(operator)]


def _basic(header: str | None) -> dict[str, str] | None:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return {"username": username, "password": password}


def by_admin(admin: Any) -> Doer:
    """Who the audit rows of the Admin UI's actions name: ``admin-ui:<its username>``."""
    return admin_ui(admin.username)


def _writable(admin: Any) -> None:
    if admin.read_only:
        raise forbidden("the Admin UI is read-only (PARLEY_ADMIN_READ_ONLY)")


@router.get("/admin/reports")
async def page() -> Response:
    return HTMLResponse(read_file(PAGE))


@router.get("/admin/parley-reports.js")
async def script(request: Request) -> Response:
    return Response(read_file(request.app.state.settings.web_dir / SCRIPT), media_type="text/javascript")


@functools.cache
def read_file(path: FilePath) -> str:
    return path.read_text(encoding="utf-8")


@router.get("/admin/api/reports")
async def reports(admin: Operator, chat: ChatDep) -> dict[str, Any]:
    listed: ReportsOut = await chat.reports.newest()
    return {"read_only": bool(admin.read_only), **listed.model_dump(mode="json")}


@router.post("/admin/api/messages/{message_id}/delete")
async def delete_message(message_id: MessageId, admin: Operator, chat: ChatDep) -> MessageRemovedOut:
    _writable(admin)
    removed = await chat.messages.remove(message_id, by=by_admin(admin))
    return MessageRemovedOut(id=message_id, deleted=removed)


@router.post("/admin/api/users/{username}/disable")
async def disable_user(username: UserName, admin: Operator, chat: ChatDep) -> AccountOut:
    _writable(admin)
    return await chat.accounts.disable(username, by=by_admin(admin))
