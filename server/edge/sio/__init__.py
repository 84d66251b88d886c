"""The Socket.IO chat adapter: the / and /echo namespaces, their codec onto the one dispatch
pipeline, and Socket.IO's writer for the hub sink (rooms). The hub sink and the per-process
registry of connections, shared with the gateways, are ``server.edge.realtime``; the
Engine.IO/Socket.IO stack under it is ``server.edge.engine``."""
