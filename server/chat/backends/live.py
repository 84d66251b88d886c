"""The live side of the server API's part of the composition (PROTOCOL.md section 17): ``app:``
events and presence for the cluster, over the port that asks every node (its part started here,
after presence, whose registry knows which nodes are live; by a server only: the command line
asks nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from server.chat.backends.emit import LiveEvents
from server.chat.backends.presence import ServerPresence, sockets_here
from server.chat.kernel.gather import Gather, SocketsOf
from server.chat.kernel.wiring import Wiring
from server.chat.presence.service import PresenceService


@dataclass(frozen=True)
class Live:
    events: LiveEvents
    presence: ServerPresence
    gather: Gather  # the edge registers its answers on it (``AppEvent``: only its sockets know)


def build(w: Wiring, gather: Gather, presence: PresenceService) -> Live:
    gather.answer(SocketsOf, partial(sockets_here, presence))
    w.part("asking the nodes", gather.start, gather.stop, serving=True)  # the command line asks none
    return Live(LiveEvents(w.db, gather), ServerPresence(w.db, presence, gather), gather)
