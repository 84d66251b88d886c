"""Email notifications over REST (PROTOCOL.md section 15): the address, its verification link and
the unsubscribe link of digests.

``PUT /api/users/me/email`` is the user's (a bearer token). The two links are opened from a mail
client, where no one is signed in: the signed token in the query is their proof, and they answer a
small page saying what happened (400 when the link is refused). The unsubscribe link takes
RFC 8058's one-click ``POST`` (body ``List-Unsubscribe=One-Click``, which a mail client sends without
showing anything) as well as a person's ``GET``; both turn email off.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from server.chat.notifications.email import Verified
from server.chat.notifications.schemas import EmailIn, NotificationPrefsOut
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES

router = APIRouter(tags=["notifications"], responses=RESPONSES)
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
BAD_LINK = "This link is not valid."


def page(title: str, text: str, status: int = 200) -> HTMLResponse:
    body = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>\n"
        f"<body><h1>{escape(title)}</h1><p>{escape(text)}</p>"
        '<p><a href="/">Open Parley</a></p></body></html>\n'
    )
    return HTMLResponse(body, status_code=status)


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
    """The unsubscribe link of a digest, opened by a person: email off, and a page saying so."""
    if not await chat.email.unsubscribe(token):
        return page("Link refused", BAD_LINK, 400)
    return page("Unsubscribed", UNSUBSCRIBED)


@router.post("/api/notifications/unsubscribe", responses=PAGES)
async def unsubscribe_one_click(token: str, chat: ChatDep) -> HTMLResponse:
    """RFC 8058's one-click unsubscribe (body ``List-Unsubscribe=One-Click``): email off."""
    if not await chat.email.unsubscribe(token):
        return page("Link refused", BAD_LINK, 400)
    return page("Unsubscribed", UNSUBSCRIBED)
