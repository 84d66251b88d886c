"""Accounts: users, the directory's words, single sign-on; their tables, records and repositories."""
