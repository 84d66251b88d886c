"""The chat domain: services over the database; no web or realtime I/O (see README.md)."""
