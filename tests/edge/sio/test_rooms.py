"""The room index (server/edge/engine/rooms.py) keeps exactly python-socketio's room table.

The same random sequence of connects, room entries, leaves and disconnects is
applied to the stock manager and to one with the index (the same sids on
both); after every step the room tables and every socket's rooms must be
identical. If a python-socketio
release changes how rooms are kept, this fails before a user notices.
"""

from __future__ import annotations

import itertools
import random
from types import SimpleNamespace

import socketio

from server.edge.engine.rooms import RoomIndex


class IndexedManager(RoomIndex, socketio.AsyncManager):  # type: ignore[misc]
    pass


def with_ids(manager: socketio.AsyncManager) -> socketio.AsyncManager:
    """The manager asks its server's engine.io for new sids: numbered ones, the same for both."""
    counter = itertools.count()
    eio = SimpleNamespace(generate_id=lambda: f"sid{next(counter)}")
    manager.set_server(SimpleNamespace(eio=eio, packet_class=socketio.packet.Packet))
    return manager


async def test_the_index_keeps_the_same_rooms_as_the_library_through_random_churn():
    stock, indexed = with_ids(socketio.AsyncManager()), with_ids(IndexedManager())
    choose = random.Random(20261122)
    rooms = [f"topic:{i}" for i in range(6)]
    sids: dict[str, tuple[str, str]] = {}  # engine.io sid -> (stock sid, indexed sid)
    for step in range(600):
        action = choose.random()
        if action < 0.25 or not sids:
            eio = f"eio{step}"
            pair = (await stock.connect(eio, "/"), await indexed.connect(eio, "/"))
            sids[eio] = pair
        elif action < 0.6:
            eio = choose.choice(list(sids))
            room = choose.choice(rooms)
            await stock.enter_room(sids[eio][0], "/", room)
            await indexed.enter_room(sids[eio][1], "/", room)
        elif action < 0.8:
            eio = choose.choice(list(sids))
            room = choose.choice(rooms)
            await stock.leave_room(sids[eio][0], "/", room)
            await indexed.leave_room(sids[eio][1], "/", room)
        else:
            eio = choose.choice(list(sids))
            stock_sid, indexed_sid = sids.pop(eio)
            await stock.disconnect(stock_sid, "/")
            await indexed.disconnect(indexed_sid, "/")
        assert stock.rooms == indexed.rooms, f"step {step}"
        for stock_sid, indexed_sid in sids.values():
            assert stock_sid == indexed_sid
            assert set(stock.get_rooms(stock_sid, "/")) == set(indexed.get_rooms(indexed_sid, "/"))
    assert any(len(members) > 1 for members in indexed.rooms["/"].values())  # the churn was real
