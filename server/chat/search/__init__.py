"""Search over messages a user may read (PROTOCOL.md section 9)."""
