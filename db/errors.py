"""The data layer's own errors, so the domain never catches a SQLAlchemy exception."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

# Unique and primary keys: PostgreSQL's SQLSTATE, SQLite's extended result codes.
_DUPLICATE_SQLSTATE = "23505"
_DUPLICATE_SQLITE = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})


class Conflict(Exception):
    """A write broke a unique constraint: another transaction stored the same key first.

    Raised by the repositories (at the insert) and by ``Database.write`` (at the commit) in
    place of SQLAlchemy's ``IntegrityError``, which is kept as ``__cause__``. Other integrity
    errors (a foreign key) are bugs, not conflicts, and stay as they are.
    """


def conflict_of(exc: IntegrityError) -> Conflict | None:
    """The ``Conflict`` an integrity error stands for, or None when it is not a duplicate key."""
    orig = exc.orig
    duplicate = (
        getattr(orig, "sqlstate", None) == _DUPLICATE_SQLSTATE
        or getattr(orig, "sqlite_errorname", None) in _DUPLICATE_SQLITE
    )
    return Conflict(str(orig)) if duplicate else None
