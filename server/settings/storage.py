"""Where the data is kept: the data directory, the database and Redis (several nodes)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel


class StorageSettings(BaseModel):
    """The data directory, the database and the Redis that joins the nodes."""

    data_dir: Path = Path("./data")
    database_url: str | None = None
    redis_url: str | None = None
    redis_channel: str = "parley"

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or an SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'parley.db').resolve()}"
