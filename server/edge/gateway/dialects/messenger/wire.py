"""The messenger dialect's wire shapes (PROTOCOL.md 7.2).

Every answer is ``{"Message": text, "Data": data or null}``; an error is the fitting HTTP status
with the error's message and null data. The models below render the Data objects and document
them. Field names are the messenger's ``CamelCase`` (``conversation_id`` -> ``ConversationId``),
in validation errors too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from server.chat.conversations.schemas import ConversationOut
from server.chat.kernel import events as ev
from server.chat.kernel.errors import ChatError
from server.chat.kernel.schemas import MessageOut, ProfileOut
from server.edge.errors import HTTP_STATUS, http_headers
from server.edge.gateway.wire import frame
from server.edge.validation import Spelling

T = TypeVar("T")


class MessengerAnswer(BaseModel, Generic[T]):
    """The messenger's envelope: ``Message`` says what happened, ``Data`` carries the result."""

    Message: str
    Data: T


class MessengerMessage(BaseModel):
    MessageId: int
    ConversationId: int
    Sender: str
    Message: str
    Created: str
    Edited: str | None


class MessengerConversation(BaseModel):
    ConversationId: int
    Recipient: str
    LastMessage: MessengerMessage | None


class MessengerProfile(BaseModel):
    Username: str
    LoggedOn: bool
    LastOnline: str | None
    Created: str


def messenger_name(field: str) -> str:
    """A field as the messenger spells it: ``conversation_id`` -> ``ConversationId``."""
    return "".join(part[:1].upper() + part[1:] for part in field.split("_"))


# A body's fields as the messenger spells them; a request's (FastAPI's) after its ``path`` prefix.
MESSENGER = Spelling(whole="body", name=messenger_name)
MESSENGER_REQUEST = replace(MESSENGER, skip=1)


def answer(text: str, data: Any = None) -> dict[str, Any]:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [item.model_dump(mode="json") if isinstance(item, BaseModel) else item for item in data]
    return {"Message": text, "Data": data}


def http_error(error: ChatError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers (``Retry-After`` when the error says when) of a messenger error."""
    return HTTP_STATUS[error.code], answer(error.message), http_headers(error)


def frame_error(error: ChatError) -> str:
    """The text frame of an error on the messenger's WebSocket (the socket stays open)."""
    return frame(answer(error.message))


def message_shape(message: MessageOut, conversation_id: int) -> MessengerMessage:
    return MessengerMessage(
        MessageId=message.id,
        ConversationId=conversation_id,
        Sender=message.sender,
        Message=message.body,
        Created=message.created_at,
        Edited=message.edited_at,
    )


def conversation_shape(conversation: ConversationOut) -> MessengerConversation:
    last = conversation.last_message
    return MessengerConversation(
        ConversationId=conversation.id,
        Recipient=conversation.peer,
        LastMessage=message_shape(last, conversation.id) if last is not None else None,
    )


def profile_shape(profile: ProfileOut) -> MessengerProfile:
    """Presence the viewer may not see (``online`` null) is ``LoggedOn`` false, ``LastOnline`` null."""
    return MessengerProfile(
        Username=profile.username,
        LoggedOn=profile.online is True,
        LastOnline=profile.last_seen,
        Created=profile.created_at,
    )


PUSHES = {
    ev.MessageCreated: "New Message",
    ev.MessageEdited: "Message Edited",
    ev.MessageDeleted: "Message Deleted",
}


def push(event: ev.Event) -> str | None:
    """What the messenger's WebSocket shows of an event: direct conversations only.

    A typing frame is the one the typer's client sent (``User`` the typer, ``ConvId``).
    """
    match event:
        case (
            ev.MessageCreated(message=message, topic_id=conversation)
            | ev.MessageEdited(message=message, topic_id=conversation)
            | ev.MessageDeleted(message=MessageOut() as message, topic_id=conversation)
        ) if message.kind == "direct":
            data = message_shape(message, conversation)
            return frame(answer(PUSHES[type(event)], data))
        case ev.Typing(topic=topic, username=username, typing=True, topic_id=conversation) if (
            topic.startswith("@")
        ):
            return frame({"User": username, "Message": "Typing", "ConvId": conversation})
    return None
