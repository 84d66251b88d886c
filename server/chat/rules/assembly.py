"""The rules' part of the composition: who blocked whom, in memory on every node."""

from __future__ import annotations

from dataclasses import dataclass

from server.chat.kernel.wiring import Wiring
from server.chat.rules.blocking import Blocks, BlockService


@dataclass(frozen=True)
class Rules:
    blocks: Blocks  # the send path, presence, typing and refill ask it (PROTOCOL.md section 10)
    block_service: BlockService


def build(w: Wiring) -> Rules:
    """``blocks`` is kept exact by the conversations' directory (a hub sink at ``SEND_PATH``)."""
    return Rules(Blocks(w.db), BlockService(w.db))
