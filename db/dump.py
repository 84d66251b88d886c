"""Every table of the database as JSON lines (``parley export DIR``, PROTOCOL.md section 16).

The tables are the database's own list (``inspect(...).get_table_names()``: every table a migration
made, the search index's included, and ``alembic_version``), not only the models', so nothing the
schema holds is left out. All of them are read in one transaction: on PostgreSQL at ``REPEATABLE
READ``, on SQLite a read transaction of WAL, so the dump is one consistent snapshot while a server
goes on writing (neither blocks its writers). Rows are streamed a page at a time and each page
appended to its file in a thread; a value JSON cannot carry is written as text (times in ISO 8601)
or, for bytes, as ``{"base64": ...}``.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

PAGE = 1000  # rows per read and per write


def _value(value: object) -> object:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    return str(value)  # Decimal, UUID...


def _append(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with open(path, "a", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, default=_value) + "\n")


async def table_names(connection: AsyncConnection) -> list[str]:
    """The database's tables (SQLite's own ``sqlite_*`` ones aside), sorted."""
    return sorted(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def dump(engine: AsyncEngine, directory: Path) -> dict[str, int]:
    """Write ``directory/<table>.jsonl`` for every table; the rows written per table."""
    written: dict[str, int] = {}
    async with engine.connect() as opened:
        connection = opened
        if engine.dialect.name == "postgresql":
            connection = await opened.execution_options(isolation_level="REPEATABLE READ")
        async with connection.begin():
            quote = engine.dialect.identifier_preparer.quote
            for name in await table_names(connection):
                path = directory / f"{name}.jsonl"
                path.touch()
                written[name] = 0
                result = await connection.stream(text(f"SELECT * FROM {quote(name)}"))
                async for page in result.mappings().partitions(PAGE):
                    rows = [dict(row) for row in page]
                    await asyncio.to_thread(_append, path, rows)
                    written[name] += len(rows)
    return written
