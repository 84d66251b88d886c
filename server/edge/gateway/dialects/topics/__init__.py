"""The topics dialect (PROTOCOL.md 7)."""
