"""Persistence: SQLModel tables, the async engine, repositories and migrations.

Repositories never commit; the unit of work (``db.uow``) owns transactions.
"""
