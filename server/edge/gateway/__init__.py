"""Compatibility gateways (PROTOCOL.md section 7): the original services' clients, unchanged.

Each dialect (``dialects/<name>/``) parses its own frames or requests into calls of the same chat
services the Socket.IO and REST transports call, and renders results, errors (classified by
``server.edge.errors``) and pushes in its own shapes (its ``wire.py``). The WebSocket dialects run
on the same realtime runtime as Socket.IO (``server.edge.realtime``): ``serve.py`` pumps frames,
``sockets.py`` is their writer for the one hub sink; ``routers.py`` lists the dialects' routers.
"""
