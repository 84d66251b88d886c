"""The echo dialect (PROTOCOL.md 7)."""
