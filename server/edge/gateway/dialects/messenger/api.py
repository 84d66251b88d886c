"""The messenger's REST dialect under ``/compat/messenger`` (PROTOCOL.md 7.2): parse, call, render.

Every answer is ``{"Message": text, "Data": data or null}`` (``wire.py`` beside this
module), errors included (``MessengerRoute``). A conversation is named by its id, the id of the
direct conversation's topic (``chat.conversations``); a message sent here goes through
``chat.messages.send`` like any other, so Socket.IO clients and the other dialects see it live,
it is stored, counted in unread and replayed to whoever was offline. Every route but ``POST
/user`` and ``POST /user/login`` takes ``Authorization: Bearer``.

The OpenAPI path of ``GET /message/{ConversationId}`` and ``DELETE /message/{MessageId}`` is
``/message/{Id}`` for both: two templates of one shape are one path to OpenAPI.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import field_validator

from server.chat.accounts.schemas import LoginIn, RegisterIn, SignUpIn
from server.chat.kernel.schemas import MAX_STORED_INT, In, RowId, Target, Username, check_body
from server.edge.gateway.dialects.messenger import wire
from server.edge.gateway.dialects.messenger.http import (
    ActorDep,
    MessengerRoute,
    answer,
    body,
    request_body,
)
from server.edge.http import AddressDep, ChatDep

Failure = wire.MessengerAnswer[None]
FAILURES: dict[int | str, dict[str, Any]] = {
    status: {"model": Failure, "description": text}
    for status, text in {
        401: "a missing, bad, expired or revoked token; a wrong username or password",
        403: "not allowed (editing someone else's message)",
        404: "no such user, conversation or message (or one of others)",
        409: "the username is taken",
        413: "the body is over the transport limit",
        422: "the body or a path parameter fails validation",
        429: "too many sign-ups or failed logins; Retry-After says when to try again",
        500: "an unexpected error, with a reference to the server log",
    }.items()
}
router = APIRouter(
    prefix="/compat/messenger", tags=["compat: messenger"], route_class=MessengerRoute, responses=FAILURES
)
Id = Annotated[int, Path(alias="Id", ge=1, le=MAX_STORED_INT)]
HISTORY = 1000  # messages of a conversation at most, the newest


class RecipientIn(In):
    recipient: Username


class SendMessageIn(In):
    conversation_id: RowId
    message: str

    _message = field_validator("message")(check_body)


class EditMessageIn(In):
    message_id: RowId
    message: str

    _message = field_validator("message")(check_body)


def documented(data: Any, text: str, model: type[In] | None = None, status: int = 200) -> dict[str, Any]:
    """The decorator's arguments: the success status, its ``Data`` and the body, for OpenAPI."""
    return {
        "status_code": status,
        "responses": {status: {"model": wire.MessengerAnswer[data], "description": text}},
        "openapi_extra": request_body(model) if model is not None else None,
    }


@router.post("/user", **documented(str, "registered and logged in: Data is the token", SignUpIn, 201))
async def register(
    data: Annotated[SignUpIn, body(SignUpIn)], chat: ChatDep, address: AddressDep
) -> JSONResponse:
    """The dialect's body knows no invitation: its clients sign up where registration is open."""
    account = RegisterIn(username=data.username, password=data.password)
    registered = await chat.users.register(account, address)
    return answer("User created", registered.token, 201)


@router.post("/user/login", **documented(str, "Data is a token", LoginIn))
async def login(data: Annotated[LoginIn, body(LoginIn)], chat: ChatDep, address: AddressDep) -> JSONResponse:
    return answer("Logged in", (await chat.users.login(data, address)).token)


@router.post("/user/logout", **documented(None, "every token issued so far is revoked"))
async def logout(actor: ActorDep, chat: ChatDep) -> JSONResponse:
    await chat.users.logout(actor)
    return answer("Logged out")


@router.get("/user/{username}", **documented(wire.MessengerProfile, "the user"))
async def user(username: str, actor: ActorDep, chat: ChatDep) -> JSONResponse:
    return answer("User found", wire.profile_shape(await chat.people.profile(actor, username)))


@router.post("/conversation", **documented(int, "Data is the ConversationId", RecipientIn))
async def open_conversation(
    data: Annotated[RecipientIn, body(RecipientIn)], actor: ActorDep, chat: ChatDep
) -> JSONResponse:
    return answer("Conversation opened", await chat.conversations.open(actor, data.recipient))


@router.get("/conversation", **documented(list[wire.MessengerConversation], "the caller's conversations"))
async def conversations(actor: ActorDep, chat: ChatDep) -> JSONResponse:
    mine = await chat.conversations.mine(actor)
    return answer("Conversations", [wire.conversation_shape(c) for c in mine])


@router.post("/message", **documented(int, "sent: Data is the MessageId", SendMessageIn, 201))
async def send(
    data: Annotated[SendMessageIn, body(SendMessageIn)], actor: ActorDep, chat: ChatDep
) -> JSONResponse:
    peer = await chat.conversations.peer(actor, data.conversation_id)
    message = await chat.messages.send(actor, Target(user=peer), data.message)
    return answer("Message sent", message.id, 201)


@router.put("/message", **documented(None, "edited", EditMessageIn))
async def edit(
    data: Annotated[EditMessageIn, body(EditMessageIn)], actor: ActorDep, chat: ChatDep
) -> JSONResponse:
    await chat.messages.edit(actor, data.message_id, data.message)
    return answer("Message edited")


@router.delete("/message/{Id}", **documented(None, "deleted (Id is the MessageId)"))
async def delete(message_id: Id, actor: ActorDep, chat: ChatDep) -> JSONResponse:
    await chat.messages.delete(actor, message_id)
    return answer("Message deleted")


@router.get("/message/{Id}", **documented(list[wire.MessengerMessage], "Id is the ConversationId"))
async def messages(conversation_id: Id, actor: ActorDep, chat: ChatDep) -> JSONResponse:
    """The conversation's messages, oldest first: the newest 1000, deleted ones left out."""
    peer = await chat.conversations.peer(actor, conversation_id)
    page = await chat.messages.history(actor, Target(user=peer), None, HISTORY)
    live = [wire.message_shape(m, conversation_id) for m in page.messages if not m.deleted]
    return answer("Messages", live)
