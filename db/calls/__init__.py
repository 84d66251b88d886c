"""The calls running in conversations and who is in them (PROTOCOL.md section 18)."""
