"""Each running server's heartbeat row (``server.chat.operators.nodes``): what ``parley stats``
shows per node."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from server.chat.operators.nodes import NodeService


async def test_a_started_node_shows_its_open_sockets_and_users_and_a_stopped_one_is_gone(chat, make_user):
    alice, bobby = await make_user("alice"), await make_user("bobby")
    node = NodeService(chat.db, chat.presence, ttl=30)
    await node.start()
    try:
        [row] = await node.live()
        assert (row.node, row.sockets, row.users) == (node.name, 0, 0)
        for actor in (alice, alice, bobby):
            await chat.presence.socket_opened(actor.id, actor.username)
        await node.beat()
        [row] = await node.live()
        assert (row.sockets, row.users) == (3, 2)
        await chat.presence.socket_closed(alice.id, alice.username)
        await node.beat()
        [row] = await node.live()
        assert (row.sockets, row.users) == (2, 2)
    finally:
        await node.stop()
    assert await node.live() == []


async def test_a_node_that_stopped_beating_is_left_out_then_pruned_by_a_live_one(chat):
    killed = NodeService(chat.db, chat.presence, ttl=30)
    long_ago = datetime.now(UTC) - timedelta(seconds=31)
    async with chat.db.write() as repos:
        await repos.nodes.beat(killed.name, long_ago, long_ago, sockets=7, users=5)
    live = NodeService(chat.db, chat.presence, ttl=30)
    assert await live.live() == []  # killed -9: its row stays but is not a running server
    await live.start()
    try:
        assert [row.node for row in await live.live()] == [live.name]
        async with chat.db.read() as repos:
            assert [row.name for row in await repos.nodes.live(long_ago - timedelta(days=1))] == [live.name]
    finally:
        await live.stop()


async def test_two_nodes_in_one_process_have_rows_of_their_own(chat):
    first, second = NodeService(chat.db, chat.presence, 30), NodeService(chat.db, chat.presence, 30)
    assert first.name != second.name
    assert first.name.split(":")[:2] == second.name.split(":")[:2]  # host and pid, then a tag


async def test_a_failed_removal_at_shutdown_logs_one_line_and_lets_the_shutdown_go_on(chat, caplog):
    node = NodeService(chat.db, chat.presence, ttl=30)
    await node.start()
    async with chat.db.write() as repos:  # any failing statement will do: the table is gone
        await repos.session.execute(text("DROP TABLE node"))
    await node.stop()
    [record] = [r for r in caplog.records if r.name == "parley.nodes"]
    assert record.levelname == "WARNING" and record.exc_info is None
    assert "goes stale" in record.getMessage()
