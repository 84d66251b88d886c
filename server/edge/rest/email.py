"""Email notifications over REST (PROTOCOL.md section 15): the address, its verification link and
the unsubscribe link of digests.

``PUT /api/users/me/email`` is the user's (a bearer token). The two links are opened from a mail
client, where no one is signed in: the signed token in the query is their proof, and they answer a
small page saying what happened (400 when the link is refused). The unsubscribe link turns email
off only by RFC 8058's one-click ``POST`` (body ``List-Unsubscribe=One-Click``, which a mail client
sends without showing anything); a ``GET`` changes nothing and answers a page whose button posts
it, since mail scanners and link unfurlers open every link of a mail. The body is not required:
the signed token is the proof, and a ``POST`` is never sent by merely opening a link.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from server.chat.notifications.email import UNSUBSCRIBE_PATH, Unsubscribe, Verified
from server.chat.notifications.schemas import EmailIn, NotificationPrefsOut
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(tags=["notifications"], responses=RESPONSES)
PLACE = 170  # its place among the API's routes and in the OpenAPI document (api.py)
PAGES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/html": {}}, "description": "a page saying what happened"},
    400: {"content": {"text/html": {}}, "description": "a page saying the link is refused"},
}
VERIFIED = {
    Verified.VERIFIED: "Your email address is verified: Parley sends notifications there now.",
    Verified.EXPIRED: "This link has expired (links are valid for 24 hours). Give the address again "
    "in Parley's notification settings to get a new one.",
    Verified.REFUSED: "This link is not valid: it was used already, or a newer address or link replaced "
    "it. Give the address again in Parley's notification settings to get a new one.",
}
UNSUBSCRIBED = "Email notifications are off. Turn them back on in Parley's notification settings at any time."
CONFIRM = (
    "Parley will stop sending email notifications to this address. Turn them back on in Parley's "
    "notification settings at any time."
)
UNSUBSCRIBE_REFUSED = {
    Unsubscribe.EXPIRED: "This link has expired (unsubscribe links are valid for 60 days). Turn email "
    "notifications off in Parley's notification settings instead.",
    Unsubscribe.REPLACED: "This link no longer works: email notifications were turned back on after its "
    "mail was sent. Use the link of a newer mail, or Parley's notification settings.",
    Unsubscribe.REFUSED: "This link is not valid.",
}


def page(title: str, text: str, status: int = 200, extra: str = "") -> HTMLResponse:
    body = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>\n"
        f"<body><h1>{escape(title)}</h1><p>{escape(text)}</p>{extra}"
        '<p><a href="/">Open Parley</a></p></body></html>\n'
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def confirm_form(token: str) -> str:
    """The button of the page a ``GET`` shows: it posts RFC 8058's body to the same link."""
    action = f"{UNSUBSCRIBE_PATH}?token={quote(token, safe='')}"
    return (
        f'<form method="post" action="{escape(action)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>'
    )


@router.put("/api/users/me/email")
async def set_email(data: EmailIn, actor: ActorDep, chat: ChatDep) -> NotificationPrefsOut:
    """Store the address, unverified, and send it a verification link (valid 24 hours); only a
    verified address gets mail. ``invalid`` for a bad address, or when the server sends no mail."""
    return await chat.email.set_address(actor, data)


@router.get("/api/users/me/email/verify", responses=PAGES)
async def verify_email(token: str, chat: ChatDep) -> HTMLResponse:
    """The link of the verification mail; needs no sign-in (the token is signed). Works once."""
    outcome = await chat.email.verify(token)
    ok = outcome is Verified.VERIFIED
    return page("Email verified" if ok else "Link refused", VERIFIED[outcome], 200 if ok else 400)


@router.get("/api/notifications/unsubscribe", responses=PAGES)
async def unsubscribe_page(token: str, chat: ChatDep) -> HTMLResponse:
    """The unsubscribe link of a digest, opened: changes nothing (mail scanners and link previews
    open every link) and shows a button that posts to it; 400 for a refused link."""
    outcome = await chat.email.unsubscribe_link(token)
    if outcome is not Unsubscribe.VALID:
        return page("Link refused", UNSUBSCRIBE_REFUSED[outcome], 400)
    return page("Unsubscribe from Parley's emails?", CONFIRM, extra=confirm_form(token))


@router.post("/api/notifications/unsubscribe", responses=PAGES)
async def unsubscribe_one_click(token: str, chat: ChatDep) -> HTMLResponse:
    """RFC 8058's one-click unsubscribe (body ``List-Unsubscribe=One-Click``, which a mail client
    sends without showing anything, and the page's button too): email off; 400 for a refused link."""
    outcome = await chat.email.unsubscribe(token)
    if outcome is not Unsubscribe.OFF:
        return page("Link refused", UNSUBSCRIBE_REFUSED[outcome], 400)
    return page("Unsubscribed", UNSUBSCRIBED)
