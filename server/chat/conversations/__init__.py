"""Conversations: topics and direct conversations, and what happens in them: messages and the
group-commit writer and the port its send hooks register on, the send path's directory, a body's
links and mentions, reactions, pins, threads, and topics as one user sees them (PROTOCOL.md sections
3 and 8)."""
