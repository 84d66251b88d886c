"""Conversations: topics and direct conversations, and what happens in them: messages and the
group-commit writer, the send path's directory, mentions, reactions, pins, threads (PROTOCOL.md
sections 3 and 8)."""
