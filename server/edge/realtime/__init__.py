"""The one realtime runtime under every realtime transport (Socket.IO and the gateway dialects).

No I/O here: the state of a connection and its catch-up (``connection``), the per-process
registry of connections (``registry``), the one dispatch pipeline from a client's frame to
its answer (``dispatch``), the hub sink that resolves an audience and hands each transport's
writer what to write (``sink``), the clocks of the connections' tokens (``expiry``). The
transports are thin pumps over it.
"""
