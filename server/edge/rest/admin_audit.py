"""The Admin UI's Audit log page at ``/admin/audit`` (PROTOCOL.md section 16), beside the Reports
and Message search pages, behind the same account and check (``admin_reports.operator``: HTTP
Basic, a wrong login counted against the address's failed Admin UI logins).

The page lists the audit rows newest first, filtered by actor, action and a first moment, as
``parley audit`` does. Its script is ``web/js/admin_audit.js``, served at
``/admin/parley-audit.js``; it shares the Reports page's ``sessionStorage`` entry. Reading the
log writes no row. Mounted only with the Admin UI (``PARLEY_ADMIN_UI=1``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from server.chat.audit.schemas import AuditOut
from server.chat.kernel.errors import invalid
from server.edge.http import ChatDep
from server.edge.rest.admin_reports import Operator, read_file

router = APIRouter(include_in_schema=False)
PAGE = FilePath(__file__).with_name("admin_audit.html")
SCRIPT = FilePath("js", "admin_audit.js")  # in the web folder (PARLEY_WEB_DIR)


@router.get("/admin/audit")
async def page() -> Response:
    return HTMLResponse(read_file(PAGE))


@router.get("/admin/parley-audit.js")
async def script(request: Request) -> Response:
    return Response(read_file(request.app.state.settings.web_dir / SCRIPT), media_type="text/javascript")


async def audit_listing(
    chat: ChatDep,
    actor: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    action: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    since: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """The audit rows a listing's query asks for, newest first, as ``parley audit`` lists them
    (reading the log writes no row): this page's and the workspace admins' (``admin_workspace``)."""
    listed: AuditOut = await chat.audit.newest(limit, actor, action, moment_of(since))
    return listed.model_dump(mode="json")


AuditListing = Annotated[Any, Depends(audit_listing)]


@router.get("/admin/api/audit")
async def audit(_admin: Operator, listed: AuditListing) -> Any:
    return listed


def moment_of(text: str | None) -> datetime | None:
    """An ISO 8601 date or time (UTC when it names no zone); ``invalid`` otherwise."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid("since: an ISO 8601 date or time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
