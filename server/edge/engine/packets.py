"""Socket.IO packets serialised once: the JSON is written when the packet is made, not walked first.

python-socketio's ``Packet`` decides at construction whether its data holds binary (its
``data_is_binary`` walks every value of the payload through ``functools.reduce`` and a lambda),
then ``encode`` serialises the data again. Every ack and every event of a send paid both; a
Message of section 8 has 22 fields, and the walk alone cost about 7 us of the event loop per
packet, twice per durable send (the ack, and the event once for all its recipients).

``JsonPacket`` tries orjson first: a payload orjson can write holds no ``bytes`` (orjson refuses
them), so it is not binary, and the text is kept for ``encode``. Anything orjson refuses (bytes in
an echoed payload, a non-string key) takes the library's own path unchanged. python-socketio takes
the class through its public ``serializer`` argument; what the subclass relies on is listed in
CONTRACT.md (rows 46-47) and digest-tested.
"""

from __future__ import annotations

from typing import Any

import orjson
from socketio import packet


class JsonPacket(packet.Packet):  # type: ignore[misc]  # python-socketio is untyped
    """A packet whose JSON text is made once, at construction, when its data has no binary part."""

    def __init__(
        self,
        packet_type: int = packet.EVENT,
        data: Any = None,
        namespace: str | None = None,
        id: int | None = None,  # the library's parameter name
        binary: bool | None = None,
        encoded_packet: str | None = None,
    ) -> None:
        self._text: str | None = None
        self._text_of: Any = None
        if binary is None and encoded_packet is None and data is not None:
            try:
                self._text = orjson.dumps(data).decode()
            except TypeError:  # bytes (or what JSON cannot hold): the library decides as before
                pass
            else:
                self._text_of = data
                binary = False
        super().__init__(packet_type, data, namespace, id, binary, encoded_packet)

    def encode(self) -> str | list[Any]:
        """As ``Packet.encode`` for a packet without attachments, with the text made at construction
        (unless ``data`` was replaced since: the CONNECT reply's, ``server.py``)."""
        if self._text is None or self.data is not self._text_of:
            return super().encode()  # type: ignore[no-any-return]
        return _head(self.packet_type, self.namespace, self.id) + self._text


def encoded_ack(namespace: str, id: int, data: list[Any]) -> str | None:
    """The text of the ACK of ``data`` (its arguments), as ``JsonPacket(ACK, ...).encode()`` writes
    it, without making the packet (an inline handler's answer, ``server.py``); None when orjson
    refuses the data (bytes: the packet's own way, with attachments)."""
    try:
        text = orjson.dumps(data).decode()
    except TypeError:
        return None
    return _head(packet.ACK, namespace, id) + text


def _head(packet_type: int, namespace: str | None, id: int | None) -> str:
    """A packet's type, namespace (but the main one) and id, as ``Packet.encode`` writes them."""
    head = str(packet_type)
    if namespace is not None and namespace != "/":
        head += namespace + ","
    if id is not None:
        head += str(id)
    return head
