"""Outgoing Socket.IO packets serialised once (server/edge/engine/packets.py): the same bytes as
python-socketio's own ``Packet`` for every shape we send, binary payloads still as attachments."""

from __future__ import annotations

from typing import Any

import pytest
from socketio import packet

from server.edge.engine import jsonmod
from server.edge.engine.packets import JsonPacket, encoded_ack
from server.edge.engine.server import build_server

MESSAGE = {
    "id": 7,
    "topic": "général",
    "kind": "public",
    "seq": 3,
    "sender": "alice",
    "body": 'a "quoted" line\nand 😀',
    "created_at": "2026-11-23T21:00:00.123456Z",
    "edited_at": None,
    "reactions": [{"emoji": "👍", "count": 2, "users": ["bob", "carol"], "me": False}],
    "mentions": [],
    "thread_summary": None,
}
SHAPES: list[tuple[int, Any, str | None, int | None]] = [
    (packet.ACK, [{"ok": True, "data": MESSAGE}], "/", 12),
    (packet.ACK, [{"ok": False, "error": {"code": "invalid", "message": "body is empty"}}], None, 0),
    (packet.EVENT, ["message", MESSAGE], "/", None),
    (packet.EVENT, ["presence", {"user": "bob", "online": True}], "/admin", None),
    (packet.CONNECT, {"sid": "abc", "pid": "def"}, "/", None),
    (packet.CONNECT_ERROR, {"message": "Invalid namespace"}, "/nope", None),
    (packet.EVENT, ["typing", 1.5, None, True, [1, [2, {"k": []}]]], "/", 9),
]


class LibraryPacket(packet.Packet):  # type: ignore[misc]
    """python-socketio's packet with our JSON module, as the server configures it."""

    json = jsonmod


@pytest.mark.parametrize(("kind", "data", "namespace", "id_"), SHAPES)
def test_a_packet_without_binary_encodes_as_the_librarys(kind, data, namespace, id_):
    ours = JsonPacket(kind, data=data, namespace=namespace, id=id_)
    theirs = LibraryPacket(kind, data=data, namespace=namespace, id=id_)
    assert ours.packet_type == theirs.packet_type == kind
    assert ours.encode() == theirs.encode()


def test_binary_data_still_goes_as_attachments():
    data = ["file", {"name": "a.bin", "bytes": b"\x00\x01"}]
    ours = JsonPacket(packet.EVENT, data=data, namespace="/", id=None)
    assert ours.packet_type == packet.BINARY_EVENT
    assert ours.encode() == LibraryPacket(packet.EVENT, data=data).encode()
    placeholder = '51-["file",{"name":"a.bin","bytes":{"_placeholder":true,"num":0}}]'
    assert ours.encode() == [placeholder, b"\x00\x01"]


def test_replaced_data_is_encoded_as_it_is_now():
    """The CONNECT reply gets the recovery ``pid`` after the packet was made (server.py)."""
    reply = JsonPacket(packet.CONNECT, data={"sid": "abc"}, namespace="/")
    reply.data = {"pid": "p1", **reply.data}
    assert reply.encode() == '0{"pid":"p1","sid":"abc"}'


def test_incoming_packets_decode_as_before():
    decoded = JsonPacket(encoded_packet='2/chat,5["message:send",{"topic":"t","body":"hi"}]')
    assert (decoded.packet_type, decoded.namespace, decoded.id) == (packet.EVENT, "/chat", 5)
    assert decoded.data == ["message:send", {"topic": "t", "body": "hi"}]


def test_the_server_builds_its_packets_with_it(settings):
    assert build_server(settings, on_undecodable=lambda: None).packet_class is JsonPacket


@pytest.mark.parametrize("namespace", ["/", "/echo"])
@pytest.mark.parametrize("id", [0, 7, 123456])
@pytest.mark.parametrize("data", [[], [None], [{"ok": True, "data": [1, "é"]}], ["a", 2]])
def test_an_ack_is_written_as_its_packet_writes_it(namespace: str, id: int, data: list[Any]) -> None:
    text = encoded_ack(namespace, id, data)
    assert text == JsonPacket(packet.ACK, namespace=namespace, id=id, data=data).encode()
    library = packet.Packet(
        encoded_packet=packet.Packet(packet.ACK, namespace=namespace, id=id, data=data).encode()
    )
    read = packet.Packet(encoded_packet=text)
    assert (read.packet_type, read.namespace, read.id, read.data) == (
        packet.ACK,
        library.namespace,
        id,
        data,
    )


def test_an_ack_holding_bytes_is_left_to_the_packet() -> None:
    assert encoded_ack("/echo", 1, [b"\x00"]) is None


def test_an_event_answered_inline_needs_its_coroutine_handler_registered_first(settings):
    sio = build_server(settings, on_undecodable=lambda: None)
    with pytest.raises(TypeError, match="no coroutine handler"):
        sio.answer_inline("/echo", "echo")

    def plain(sid: str, payload: Any) -> Any:
        return payload

    sio.on("echo", plain, namespace="/echo")
    with pytest.raises(TypeError, match="no coroutine handler"):
        sio.answer_inline("/echo", "echo")

    async def answer(sid: str, payload: Any) -> Any:
        return payload

    sio.on("echo", answer, namespace="/echo")
    sio.answer_inline("/echo", "echo")
