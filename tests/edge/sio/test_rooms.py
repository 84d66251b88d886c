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


class Counted(str):
    """A sid that counts the comparisons made with it: a scan of a list compares it with each item."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        Counted.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


async def test_checking_a_socket_compares_it_with_none_of_the_thousands_still_connecting():
    """In a reconnect storm thousands of sockets wait in their connect handlers at once, and each
    emit to one of them asks whether it is connected: python-socketio keeps the waiting sids in a
    list, so each such question scanned all of them (3% of a 10,000-socket storm's CPU, py-spy)."""
    manager = with_ids(IndexedManager())
    waiting = [await manager.pre_connect(f"eio{i}", "/") for i in range(2000)]
    connected = await manager.connect("eio-last", "/")
    Counted.compared = 0
    assert manager.is_connected(Counted(connected), "/")
    assert not manager.is_connected(Counted(waiting[0]), "/")
    assert manager.is_pre_connected(Counted(waiting[1]), "/")
    assert Counted.compared <= 6


async def test_sockets_connecting_and_disconnecting_are_told_apart_as_the_library_does():
    stock, indexed = with_ids(socketio.AsyncManager()), with_ids(IndexedManager())
    choose = random.Random(20261129)
    states: dict[str, tuple[str, str, str]] = {}  # engine.io sid -> (state, stock sid, indexed sid)
    seen: set[tuple[str, ...]] = set()  # the states held together at some step
    for step in range(800):
        action = choose.random()
        if action < 0.3 or not states:
            eio = f"eio{step}"
            states[eio] = ("pending", await stock.pre_connect(eio, "/"), await indexed.pre_connect(eio, "/"))
        else:
            eio = choose.choice(list(states))
            state, stock_sid, indexed_sid = states[eio]
            if state == "pending" and action < 0.6:
                assert await stock.connect(stock_sid, "/") == await indexed.connect(indexed_sid, "/")
                states[eio] = ("connected", stock_sid, indexed_sid)
            elif state == "connected" and action < 0.8:
                assert stock.pre_disconnect(stock_sid, "/") == indexed.pre_disconnect(indexed_sid, "/")
                states[eio] = ("leaving", stock_sid, indexed_sid)
            else:
                await stock.disconnect(stock_sid, "/")
                await indexed.disconnect(indexed_sid, "/")
                del states[eio]
        for kind in ("pending_connect", "pending_disconnect"):
            stock_table, indexed_table = getattr(stock, kind), getattr(indexed, kind)
            assert {ns: list(sids) for ns, sids in stock_table.items()} == {
                ns: list(sids) for ns, sids in indexed_table.items()
            }, f"step {step}: {kind}"
        for _, stock_sid, indexed_sid in states.values():
            assert stock.is_connected(stock_sid, "/") == indexed.is_connected(indexed_sid, "/")
            assert stock.is_pre_connected(stock_sid, "/") == indexed.is_pre_connected(indexed_sid, "/")
        seen.add(tuple(sorted({state for state, _, _ in states.values()})))
    assert ("connected", "leaving", "pending") in seen  # the churn held all three at once
