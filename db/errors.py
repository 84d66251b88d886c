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


# SQLSTATE classes that say the server went away, not that a statement was wrong: 08 (connection
# exception) and 57P (operator intervention: admin shutdown, crash shutdown, cannot connect now).
_GONE_SQLSTATES = ("08", "57P")


def outage_of(exc: BaseException) -> str | None:
    """The failure class (the driver's exception name) when ``exc`` says the database cannot be
    reached or dropped the connection (a restart, a crash, ``pg_terminate_backend``); None for
    anything else, which is a bug or bad data, not an outage.

    Looks through SQLAlchemy's wrapping (``orig``, ``__cause__``, ``__context__``) to the
    driver's own exception, so every caller names a failure alike whichever path met it.
    """
    return _deepest(exc, set())


def _deepest(exc: BaseException, seen: set[int]) -> str | None:
    """The innermost exception of the chain that says the connection is gone: its name."""
    seen.add(id(exc))
    orig = getattr(exc, "orig", None)
    for inner in (orig if isinstance(orig, BaseException) else None, exc.__cause__, exc.__context__):
        if inner is not None and id(inner) not in seen and (found := _deepest(inner, seen)) is not None:
            return found
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith(_GONE_SQLSTATES):
        return type(exc).__name__
    if isinstance(exc, OSError) or _closed_connection(exc):
        return type(exc).__name__
    return None


def _closed_connection(exc: BaseException) -> bool:
    """asyncpg's ``InterfaceError`` for a connection that is closed or being closed,
    ``ConnectionDoesNotExistError`` (a connection lost mid-statement) and ``InternalClientError``
    (a statement on a connection the server ended: "cannot switch to state"), as ``db/reads.py``
    counts them; named, not imported, so that this module needs no driver."""
    name = type(exc).__name__
    if name in {"ConnectionDoesNotExistError", "ConnectionFailureError", "InternalClientError"}:
        return True
    return name == "InterfaceError" and "closed" in str(exc)
