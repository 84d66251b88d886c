"""search: ``from:`` and ``in:`` read a sender's or a topic's newest messages first (PostgreSQL)

PostgreSQL: the indexes ``ix_messages_sender_created`` on ``messages (sender_id, created_at, id)``
and ``ix_messages_topic_created`` on ``messages (topic_id, created_at, id)``, from which a search
restricted to one sender or one topic reads that sender's or topic's newest messages in result
order (``db/search/postgres.py``). They are built inside the migration's transaction, as 0008
built ``ix_messages_created`` (``CREATE INDEX CONCURRENTLY`` cannot run in a transaction, and the
migration holds one for its advisory lock): a plain B-tree build, about a second per index at a
million messages, during which sends wait and reads go on. SQLite: nothing (its ``from:`` reads
windows of FTS5 matches, db/search/sqlite.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 15:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# This revision's own SQL, frozen as it stood when it was written (commit b51333f).
WALK_INDEXES = {
    "ix_messages_sender_created": "messages (sender_id, created_at, id)",
    "ix_messages_topic_created": "messages (topic_id, created_at, id)",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name, on in WALK_INDEXES.items():
            bind.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {on}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name in WALK_INDEXES:
            bind.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
