"""Parley: a Socket.IO-compatible chat and pub/sub server."""

__version__ = "0.1.0"
