"""Moderation: ranks acted on (roles, kick, ban, mute, archive, rename), blocking users, and
reports (PROTOCOL.md section 10). The rules themselves are in ``server.chat.rules``."""
