"""Accounts: registration, login, tokens (JWT and API tokens), profiles, single sign-on and the
directory's words (PROTOCOL.md sections 2, 6, 12 and 14)."""
