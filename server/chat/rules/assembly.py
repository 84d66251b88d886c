"""The rules' part of the composition: who blocked whom and who administers the workspace, in
memory on every node."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.kernel.wiring import Stage, Wiring
from server.chat.rules.blocking import Blocks, BlockService
from server.chat.rules.workspace import Roles


@dataclass(frozen=True)
class Rules:
    blocks: Blocks  # the send path, presence, typing and refill ask it (PROTOCOL.md section 10)
    block_service: BlockService
    roles: Roles  # the workspace's owners and admins (PROTOCOL.md section 19): ``chat.roles``


def build(w: Wiring) -> Rules:
    """``blocks`` and ``roles`` keep themselves exact: hub sinks at ``SEND_PATH``, before any
    service or client acts on a block or a role; ``roles`` is read once at the start."""
    blocks = Blocks(w.db)
    w.sink(Stage.SEND_PATH, blocks)
    roles = Roles(w.db)
    w.sink(Stage.SEND_PATH, roles)
    w.part("workspace roles", roles.load)
    return Rules(blocks, BlockService(w.db), roles)
