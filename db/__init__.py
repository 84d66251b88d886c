"""Persistence, by capability as the domain is: each ``db/<capability>/`` holds its SQLModel
tables, records and repositories, gathered by the faces ``models.py``, ``records.py`` and
``repositories``; beside them the async engine, the group-commit send store, the hot reads and
the migrations.

Repositories never commit; the unit of work (``db.uow``) owns transactions.
"""
