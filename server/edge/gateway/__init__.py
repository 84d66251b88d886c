"""Compatibility gateways (PROTOCOL.md section 7): the original services' clients, unchanged.

Each dialect (``dialects/<name>/``) parses its own frames or requests into calls of the same chat
services the Socket.IO and REST transports call, and renders results, errors (classified by
``server.edge.errors``) and pushes in its own shapes (its ``wire.py``). What every WebSocket
dialect shares is here: the runtime of one socket (``serve.py``) and the hub sink that reaches
the gateway sockets (``GatewaySink`` in ``sockets.py``); ``routers.py`` lists the dialects' FastAPI routers.
"""
