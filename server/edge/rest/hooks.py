"""Incoming webhooks over HTTP (PROTOCOL.md section 12): managed under ``/api/topics/{name}/hooks``,
posted to at ``POST /hooks/<secret>`` with no other authentication.

A post's body is JSON ``{"text", "thread"?}`` or, as Slack sends it, a form whose field
``payload`` holds that JSON; other fields (Slack's ``username``, ``icon_emoji`` ...) are ignored.
A bad body answers 422 ``invalid`` (as every validation error, PROTOCOL.md section 6), but only
for a hook that exists: an unknown or revoked secret is 404 whatever the body. ``Idempotency-Key`` becomes the
send's ``client_id``: a retry stores nothing and answers the original ``{"id", "seq"}``. The body
cap (``HOOK_MAX_BYTES``) is applied before the route by ``BodyCap`` (``server.app``); the request
log names the route template, never the secret (``server.edge.rest.observe``).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

import orjson
from fastapi import APIRouter, Path, Request

from server.chat.integrations.schemas import HookCreatedOut, HookIn, HookPostedOut, HooksOut
from server.chat.kernel.errors import ChatError, ErrorCode, invalid
from server.chat.kernel.schemas import MAX_STORED_INT, Empty
from server.edge.http import ActorDep, ChatDep
from server.edge.rest.errors import RESPONSES
from server.edge.rest.topics import Name

HOOK_MAX_BYTES = 64 * 1024
router = APIRouter(prefix="/api/topics", tags=["hooks"], responses=RESPONSES)
public = APIRouter(tags=["hooks"], responses=RESPONSES)
PLACES = {"router": 120, "public": 900}  # the secret URL's POST last, before the operations' routes
HookId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
Secret = Annotated[str, Path(max_length=200)]
FORM = "application/x-www-form-urlencoded"


@router.post("/{name}/hooks", status_code=201)
async def create(name: Name, data: HookIn, actor: ActorDep, chat: ChatDep) -> HookCreatedOut:
    """An incoming webhook of the topic (owners and admins); its URL is in this answer only."""
    return await chat.hooks.create(actor, name, data.bot)


@router.get("/{name}/hooks")
async def hooks(name: Name, actor: ActorDep, chat: ChatDep) -> HooksOut:
    """The topic's hooks, without their URLs."""
    return await chat.hooks.list(actor, name)


@router.delete("/{name}/hooks/{hook_id}")
async def revoke(name: Name, hook_id: HookId, actor: ActorDep, chat: ChatDep) -> Empty:
    """The hook's URL stops working at once."""
    await chat.hooks.revoke(actor, name, hook_id)
    return Empty()


@public.post("/hooks/{secret}", response_model=HookPostedOut)
async def post(secret: Secret, request: Request, chat: ChatDep) -> Any:
    """Post into the hook's topic as its bot: JSON ``{"text", "thread"?}`` or the form field ``payload``."""
    key = request.headers.get("idempotency-key")
    try:
        text, thread = message_of(request.headers.get("content-type", ""), await request.body())
        return await chat.hooks.post(secret, text, thread, key)
    except ChatError as exc:
        if exc.code is ErrorCode.INVALID:
            await chat.hooks.post_check(secret)  # an unknown hook is 404, whatever the body
        raise


def message_of(content_type: str, raw: bytes) -> tuple[str, int | None]:
    """``text`` and ``thread`` of a post's body; ``invalid`` when it holds no such message."""
    if content_type.split(";")[0].strip().lower() == FORM:
        try:
            fields = parse_qs(raw.decode(), strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            raise invalid("the form is not valid") from None
        payloads = fields.get("payload")
        if payloads is None or len(payloads) != 1:
            raise invalid("payload: a form needs one field 'payload' holding the JSON message")
        raw = payloads[0].encode()
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise invalid('the body must be a JSON object {"text", "thread"?}')
    text, thread = data.get("text"), data.get("thread")
    if not isinstance(text, str):
        raise invalid("text: a string is required")
    if thread is not None and (type(thread) is not int or not 1 <= thread <= MAX_STORED_INT):
        raise invalid("thread: the id of a message of the topic")
    return text, thread
