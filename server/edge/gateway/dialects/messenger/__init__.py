"""The messenger dialect (PROTOCOL.md 7)."""
