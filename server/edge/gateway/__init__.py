"""Compatibility gateways (PROTOCOL.md section 7): the original services' clients, unchanged.

Each dialect is a thin module: it parses its own frames or requests into calls
of the same chat services the Socket.IO and REST transports call, and renders
results, errors and pushes in its own shapes (its ``wire.py``). The
WebSocket dialects are sinks of the same hub as Socket.IO (``sink.py``).
"""
