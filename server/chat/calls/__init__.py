"""Calls in a conversation (PROTOCOL.md section 18): signalling only, media never passes here."""
