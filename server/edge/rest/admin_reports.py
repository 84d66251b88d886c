"""The Admin UI's Reports page at ``/admin/reports`` (PROTOCOL.md section 10), beside the Socket.IO
Admin UI and behind the same account (``PARLEY_ADMIN_USERNAME`` / ``PARLEY_ADMIN_PASSWORD``).

The page lists the reported messages, newest first, and offers the operator's actions on each:
delete the message (``MessageService.remove``, as its sender would) and disable its sender
(``AccountService.disable``, as ``parley user disable``). Its script calls the JSON routes below
with the credentials typed into its form as HTTP Basic (never stored beyond the tab's
``sessionStorage``); a wrong login counts against the address's failed Admin UI logins. With
``PARLEY_ADMIN_READ_ONLY`` on (the default) the page lists and the actions are ``forbidden``.
Mounted only with the Admin UI (``PARLEY_ADMIN_UI=1``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from server.chat.admin_schemas import AccountOut, MessageRemovedOut, ReportsOut
from server.chat.errors import ChatError, ErrorCode, forbidden, not_found
from server.chat.schemas import MAX_STORED_INT
from server.edge.http import AddressDep, ChatDep

router = APIRouter(include_in_schema=False)
MessageId = Annotated[int, Path(ge=1, le=MAX_STORED_INT)]
UserName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{3,32}$")]


def operator(request: Request, address: AddressDep) -> Any:
    """The Admin UI's account check for one request (HTTP Basic); the Admin UI instrumentation."""
    admin = getattr(request.app.state, "admin", None)
    if admin is None:
        raise not_found("the Admin UI is off")
    wait = admin.failures.retry_after(address)
    if wait > 0:
        raise ChatError(ErrorCode.RATE_LIMITED, "too many failed logins; try later", retry_after=wait)
    if not admin.accepts(_basic(request.headers.get("authorization"))):
        admin.failures.take(address)
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


def _writable(admin: Any) -> None:
    if admin.read_only:
        raise forbidden("the Admin UI is read-only (PARLEY_ADMIN_READ_ONLY)")


@router.get("/admin/reports")
async def page() -> Response:
    return HTMLResponse(PAGE)


@router.get("/admin/parley-reports.js")
async def script() -> Response:
    return Response(SCRIPT, media_type="text/javascript")


@router.get("/admin/api/reports")
async def reports(admin: Operator, chat: ChatDep) -> dict[str, Any]:
    listed: ReportsOut = await chat.reports.newest()
    return {"read_only": bool(admin.read_only), **listed.model_dump(mode="json")}


@router.post("/admin/api/messages/{message_id}/delete")
async def delete_message(message_id: MessageId, admin: Operator, chat: ChatDep) -> MessageRemovedOut:
    _writable(admin)
    removed = await chat.messages.remove(message_id)
    return MessageRemovedOut(id=message_id, deleted=removed)


@router.post("/admin/api/users/{username}/disable")
async def disable_user(username: UserName, admin: Operator, chat: ChatDep) -> AccountOut:
    _writable(admin)
    return await chat.accounts.disable(username)


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reports - Parley Admin</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td.excerpt { max-width: 28rem; overflow-wrap: anywhere; }
form { display: flex; gap: .5rem; align-items: end; margin-bottom: 1rem; }
label { display: flex; flex-direction: column; font-size: .85rem; }
#status { margin: .5rem 0; }
nav a { margin-right: 1rem; }
</style>
<script type="module" src="parley-reports.js"></script>
</head>
<body>
<nav><a href="./">Socket.IO Admin UI</a><strong>Reports</strong> <a href="search">Message search</a></nav>
<h1>Reported messages</h1>
<form id="login">
  <label>Username <input id="username" name="username" autocomplete="username" required></label>
  <label>Password <input id="password" name="password" type="password" autocomplete="current-password"
    required></label>
  <button type="submit">Show reports</button>
</form>
<p id="status" role="status"></p>
<table id="reports" hidden>
  <thead><tr><th>Reported</th><th>By</th><th>Reason</th><th>Topic</th><th>Sender</th><th>Message</th>
    <th>Actions</th></tr></thead>
  <tbody></tbody>
</table>
</body>
</html>
"""

SCRIPT = """// Parley: the Admin UI's Reports page (server/edge/rest/admin_reports.py).
const $ = (id) => document.getElementById(id);
let credentials = sessionStorage.getItem("parley_admin_basic");
let readOnly = true;

async function call(path, method = "GET") {
  const response = await fetch(path, { method, headers: { Authorization: `Basic ${credentials}` } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ? body.error.message : `HTTP ${response.status}`);
  return body;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text ?? "-";
  if (className) td.className = className;
  return td;
}

function action(td, label, run) {
  const button = document.createElement("button");
  button.textContent = label;
  button.disabled = readOnly;
  if (readOnly) button.title = "the Admin UI is read-only (PARLEY_ADMIN_READ_ONLY)";
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      $("status").textContent = await run();
      await load();
    } catch (error) {
      $("status").textContent = error.message;
      button.disabled = false;
    }
  });
  td.append(button, " ");
}

function render(reports) {
  const body = $("reports").tBodies[0];
  body.replaceChildren();
  for (const report of reports) {
    const message = report.message;
    const row = body.insertRow();
    row.dataset.report = report.id;
    cell(row, report.created_at);
    cell(row, report.reporter);
    cell(row, report.reason, "excerpt");
    cell(row, message.topic);
    cell(row, message.sender);
    const shown = cell(row, message.deleted ? "(deleted)" : message.excerpt, "excerpt");
    if (message.link) {
      const link = document.createElement("a");
      link.href = message.link;
      link.textContent = `#${message.id}`;
      shown.prepend(link, " ");
    }
    const actions = row.insertCell();
    if (!message.deleted) {
      action(actions, "Delete message", async () => {
        await call(`api/messages/${message.id}/delete`, "POST");
        return `deleted message ${message.id}`;
      });
    }
    if (message.sender) {
      action(actions, `Disable ${message.sender}`, async () => {
        await call(`api/users/${encodeURIComponent(message.sender)}/disable`, "POST");
        return `disabled ${message.sender}: tokens revoked, open sockets close`;
      });
    }
  }
  $("reports").hidden = false;
}

async function load() {
  const listed = await call("api/reports");
  readOnly = listed.read_only;
  render(listed.reports);
  if (!$("status").textContent) {
    $("status").textContent = `${listed.reports.length} reports${readOnly ? " (read-only)" : ""}`;
  }
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  credentials = btoa(`${$("username").value}:${$("password").value}`);
  $("status").textContent = "";
  try {
    await load();
    sessionStorage.setItem("parley_admin_basic", credentials);
    $("login").hidden = true;
  } catch (error) {
    $("status").textContent = error.message;
  }
});

if (credentials) load().then(() => { $("login").hidden = true; }, () => sessionStorage.clear());
"""
