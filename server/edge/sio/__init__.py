"""The Socket.IO chat adapter: the / and /echo namespaces, their dispatch, the hub sink, the
per-process registry of sockets. The Engine.IO/Socket.IO stack under it is ``server.edge.engine``."""
