"""The rooms dialect (PROTOCOL.md 7)."""
