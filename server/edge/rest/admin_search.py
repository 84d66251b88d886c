"""The Admin UI's Message search page at ``/admin/search`` (PROTOCOL.md section 9), beside the
Socket.IO Admin UI and the Reports page, behind the same account and its check (``admin_reports.
operator``: HTTP Basic, a wrong login counted against the address's failed Admin UI logins).

An operator searches every topic and direct conversation, private ones included, in section 9's
query language, newest first: ``chat.search.search_all`` (the search service without the per-user
access filter). The page's script is ``web/js/admin_search.js``; it shares the Reports page's
``sessionStorage`` entry, so signing in on one signs in on the other. Mounted only with the Admin
UI (``PARLEY_ADMIN_UI=1``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from server.edge.http import AddressDep, ChatDep
from server.edge.rest.admin_reports import Operator, by_admin

router = APIRouter(include_in_schema=False)


@router.get("/admin/search")
async def page() -> Response:
    return HTMLResponse(PAGE)


@router.get("/admin/api/login", status_code=204)
async def login(admin: Operator, chat: ChatDep, address: AddressDep) -> Response:
    """204 for the Admin UI's credentials (a page's sign-in: an ``admin.login`` audit row), else
    the operator check's error."""
    await chat.audit.record(by_admin(admin), "admin.login", details={"via": "page", "address": address})
    return Response(status_code=204)


@router.get("/admin/api/search")
async def search(
    admin: Operator,
    chat: ChatDep,
    q: Annotated[str, Query(min_length=1, max_length=256)],
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """A search of every conversation, private ones included: its first page writes an
    ``admin.search`` audit row with the query (the next pages of the same search do not)."""
    found = await chat.search.search_all(q, cursor, limit)
    if cursor is None:
        await chat.audit.record(by_admin(admin), "admin.search", details={"q": q})
    return found


PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Message search - Parley Admin</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/css/app.css">
  <script type="module" src="/js/admin_search.js"></script>
</head>
<body class="admin-search-page">
  <nav class="admin-nav">
    <a href="./">Socket.IO Admin UI</a><a href="reports">Reports</a><strong>Message search</strong>
    <a href="audit">Audit log</a>
  </nav>
  <main id="admin-search" class="admin-search"><p class="boot-note">Loading…</p></main>
</body>
</html>
"""
