"""Compatibility gateways (PROTOCOL.md section 7): the original services' clients, unchanged.

Each dialect is a thin module: it parses its own frames or requests into calls
of the same chat services the Socket.IO and REST transports call, and renders
results, errors (through ``server.edge.wire``) and pushes in its own shapes. The
WebSocket dialects run on the same realtime runtime as Socket.IO (``server.edge.realtime``):
``serve.py`` pumps frames, ``sockets.py`` is their writer for the one hub sink.
"""
