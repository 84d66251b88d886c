"""One server for a module's tests (issue 51): each test then has users and topics of its own.

A module opts in with a module-scoped ``server`` fixture built by ``shared_server`` (indirectly
parametrized by ``databases_of``: SQLite, and PostgreSQL too for a test marked
``both_databases``), a per-test ``live_server`` that closes the test's sockets (``own_sockets``),
and ``Names`` for the test's own names. tests/parallel.py runs a module on one worker, so its
server starts once. A test that needs a server of its own (other settings, server-wide counts, a
restart) keeps the ``live_server`` of tests/conftest.py.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support import LiveServer, running_on
from tests.support import test_settings as settings_for

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# A server a module shares signs up every test's users from 127.0.0.1.
SHARED = {"register_per_hour": 1_000_000, "login_per_hour": 1_000_000}


def databases_of(metafunc: pytest.Metafunc, fixture: str = "server") -> None:
    """Parametrize a module's shared ``fixture`` (indirectly, so one server per database)."""
    if fixture in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_databases") is not None
        metafunc.parametrize(fixture, DATABASES if both else ["sqlite"], indirect=True)


@asynccontextmanager
async def shared_server(
    factory: pytest.TempPathFactory, database: str = "sqlite", **overrides: Any
) -> AsyncIterator[LiveServer]:
    """A real uvicorn for a module's tests on a fresh SQLite file or PostgreSQL database, with
    ``overrides`` on the test settings."""
    data_dir: Path = factory.mktemp(f"shared-{database}") / "data"
    async with running_on(settings_for(data_dir, **{**SHARED, **overrides}), database) as server:
        yield server


@asynccontextmanager
async def own_sockets(server: LiveServer) -> AsyncIterator[LiveServer]:
    """``server`` for one test: the sockets the test connects are closed when it ends."""
    opened = len(server._clients)
    try:
        yield server
    finally:
        for client in server._clients[opened:]:
            await client.close()
        del server._clients[opened:]


class Names:
    """One test's names on a shared server: ``names.alice`` is ``alice`` followed by the test's
    number (``alice7``); they fit a username (3 to 32 characters) and a topic name."""

    _numbers = itertools.count(1)

    def __init__(self) -> None:
        self.number = next(Names._numbers)

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return f"{name}{self.number}"
