"""Every gateway route, for the composition root to mount beside the REST API."""

from __future__ import annotations

from fastapi import APIRouter

from server.edge.gateway.dialects.echo import api as echo
from server.edge.gateway.dialects.echo import public
from server.edge.gateway.dialects.echo import ws as echo_ws
from server.edge.gateway.dialects.messenger import api as messenger
from server.edge.gateway.dialects.messenger import ws as messenger_ws
from server.edge.gateway.dialects.rooms import ws as rooms
from server.edge.gateway.dialects.topics import ws as topics


def gateway_routers() -> list[APIRouter]:
    """The REST and WebSocket routers of every dialect (each under ``/compat/<dialect>``)."""
    return [
        topics.router,
        messenger.router,
        messenger_ws.router,
        echo.router,
        echo_ws.router,
        public.router,
        rooms.router,
    ]
