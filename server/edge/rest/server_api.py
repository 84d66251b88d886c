"""The server API's write side over REST (PROTOCOL.md section 17): publish, broadcast, members,
topics and users, each under ``/api/server/`` with a server key of the route's scope
(``server_auth.server_key``). A route parses, calls one service, renders; the rules are the
domain's (``server/chat/backends/``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from server.chat.backends.keys import ServerKey
from server.chat.backends.schemas import (
    BroadcastIn,
    DisconnectIn,
    MemberIn,
    MemberRemovedOut,
    MemberSetOut,
    MessagesOut,
    PublishIn,
    ServerTopicIn,
    ServerUserIn,
    ServerUserOut,
    UserTokenIn,
    UserTokenOut,
)
from server.chat.kernel.schemas import Empty, MessageOut, TopicOut
from server.edge.http import ChatDep
from server.edge.rest.server_auth import server_key, server_router

router = server_router()
TopicPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
UserPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{3,32}$")]
Publishing = Annotated[ServerKey, Depends(server_key("publish"))]
Membering = Annotated[ServerKey, Depends(server_key("members"))]
Managing = Annotated[ServerKey, Depends(server_key("users"))]
Disconnecting = Annotated[ServerKey, Depends(server_key("disconnect"))]


@router.post("/messages", status_code=201)
async def publish(data: PublishIn, key: Publishing, chat: ChatDep) -> MessageOut:
    """Store a message as a member's send would: into a topic, or to a user (``to``); sent by the
    key's bot, or ``as`` a user (the ``as_user`` scope). A ``client_id`` makes a retry store
    nothing new."""
    return await chat.server_publish.publish(key, data.target, data.body, data.as_, data.client_id)


@router.post("/broadcast", status_code=201)
async def broadcast(data: BroadcastIn, key: Publishing, chat: ChatDep) -> MessagesOut:
    """The same message in 1 to 100 topics, sent by the key's bot; one missing topic sends none."""
    return MessagesOut(messages=await chat.server_publish.broadcast(key, data.topics, data.body))


@router.put("/topics/{name}/members/{username}")
async def add_member(
    name: TopicPath, username: UserPath, key: Membering, chat: ChatDep, data: MemberIn | None = None
) -> MemberSetOut:
    """Make the user a member (public or private topic, no invitation): their sockets join at once
    on every node and they get ``topic:invited``, as for an invite."""
    return await chat.server_members.add(key, name, username, (data or MemberIn()).role)


@router.delete("/topics/{name}/members/{username}")
async def remove_member(
    name: TopicPath, username: UserPath, key: Membering, chat: ChatDep
) -> MemberRemovedOut:
    """Remove the user: their sockets leave at once on every node, with the events of a kick."""
    return MemberRemovedOut(removed=await chat.server_members.remove(key, name, username))


@router.post("/topics", status_code=201)
async def create_topic(data: ServerTopicIn, key: Membering, chat: ChatDep) -> TopicOut:
    """A topic owned by ``owner``, or by the key's bot."""
    return await chat.server_members.create_topic(key, data.name, data.private, data.owner)


@router.put("/users/{username}")
async def put_user(
    username: UserPath, key: Managing, chat: ChatDep, data: ServerUserIn | None = None
) -> ServerUserOut:
    """Create the user without a password (none can ever log in as them), or update them."""
    given = data or ServerUserIn()
    return await chat.server_users.put(key, username, given.display_name, given.email)


@router.post("/users/{username}/tokens")
async def user_token(
    username: UserPath, key: Managing, chat: ChatDep, data: UserTokenIn | None = None
) -> UserTokenOut:
    """An ordinary Parley access token of the user (``ttl`` seconds, 60 to 30 days; the server's
    token lifetime unless given), answered as a login's: nothing is stored."""
    return await chat.server_users.token(key, username, (data or UserTokenIn()).ttl)


@router.post("/users/{username}/disconnect")
async def disconnect(
    username: UserPath, key: Disconnecting, chat: ChatDep, data: DisconnectIn | None = None
) -> Empty:
    """Close every socket of the user on every node; with ``revoke``, as a logout."""
    await chat.server_users.disconnect(key, username, (data or DisconnectIn()).revoke)
    return Empty()
