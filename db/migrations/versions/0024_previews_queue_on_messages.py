"""Link previews: a new message with links is its own queue entry (no ``preview_jobs`` row at send)

Before, every message with links wrote a ``preview_jobs`` row in its send's transaction: one more
statement on the hot path of every link send (and on PostgreSQL the end of the one-statement
batch). Now ``messages.previews`` tells the state: NULL while the previews are still to be made,
JSON (``[]`` for none) once they are. A partial index holds exactly the messages waiting
(``links IS NOT NULL AND previews IS NULL``): the worker reads it, and a message leaves it when
its previews are kept. ``preview_jobs`` stays for what is rare: an edit's new links, a retry, and
on PostgreSQL the lease one node takes on a message.

Messages already done with no preview had NULL: they get ``[]`` here, so only those still queued
(a ``preview_jobs`` row) are waiting after the upgrade. Downgrading gives every waiting message
its job row back.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-26 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "links IS NOT NULL AND previews IS NULL"


def upgrade() -> None:
    op.execute(
        "UPDATE messages SET previews = '[]' WHERE links IS NOT NULL AND previews IS NULL"
        " AND id NOT IN (SELECT message_id FROM preview_jobs)"
    )
    condition = sa.text(WAITING)
    op.create_index(
        "ix_messages_previews_waiting", "messages", ["id"], sqlite_where=condition, postgresql_where=condition
    )


def downgrade() -> None:
    op.drop_index("ix_messages_previews_waiting", table_name="messages")
    op.execute(
        "INSERT INTO preview_jobs (message_id, due_at, attempts) SELECT id, created_at, 0 FROM messages"
        " WHERE links IS NOT NULL AND previews IS NULL AND id NOT IN (SELECT message_id FROM preview_jobs)"
    )
    op.execute("UPDATE messages SET previews = NULL WHERE previews = '[]'")
