"""The audit log across two servers on one database (SQLite and PostgreSQL): a row written by an
action on one node is listed by the other, and two nodes writing at once lose none."""

from __future__ import annotations

import asyncio

from server.chat.kernel.actors import CLI, admin_ui
from server.chat.service import Chat


async def test_each_node_lists_what_the_other_wrote(two_nodes: tuple[Chat, Chat]) -> None:
    first, second = two_nodes
    await first.users.create("alice", "password123", by=CLI)
    await second.accounts.disable("alice", by=admin_ui("admin"))
    await asyncio.gather(
        *(first.audit.record(CLI, "token.issue", f"n1-{n}") for n in range(10)),
        *(second.audit.record(CLI, "token.issue", f"n2-{n}") for n in range(10)),
    )
    for node in (first, second):
        entries = (await node.audit.newest(100)).entries
        assert len(entries) == 22
        assert [(e.actor, e.action) for e in entries[-2:]] == [
            ("admin-ui:admin", "user.disable"),
            ("cli", "user.create"),
        ]
        assert {e.target for e in entries if e.action == "token.issue"} == {
            *(f"n1-{n}" for n in range(10)),
            *(f"n2-{n}" for n in range(10)),
        }
