"""Accounts: registration, login, tokens (JWT and API tokens), profiles (PROTOCOL.md sections 2, 6, 12)."""
