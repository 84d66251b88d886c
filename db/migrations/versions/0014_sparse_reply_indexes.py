"""messages: the reply and thread indexes hold only the rows that have one

``ix_messages_reply_to_id`` and ``ix_messages_thread`` (0006) indexed every message, though most
messages quote nothing and belong to no thread: each send wrote two index entries for NULL. Both
become partial (``... IS NOT NULL``), on both databases; every query that reads them compares the
column with a value (an edit's quotes, a thread's history and summary) or asks ``IS NOT NULL``
(search's ``is:thread``), which the partial condition is implied by, so the planners still use
them. Rebuilding reads the table once per index (a second or two at a million messages).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_messages_reply_to_id", ["reply_to_id"], "reply_to_id IS NOT NULL"),
    ("ix_messages_thread", ["thread_root_id", "id"], "thread_root_id IS NOT NULL"),
)


def upgrade() -> None:
    for name, columns, where in INDEXES:
        op.drop_index(name, table_name="messages")
        condition = sa.text(where)
        op.create_index(name, "messages", columns, sqlite_where=condition, postgresql_where=condition)


def downgrade() -> None:
    for name, columns, _where in INDEXES:
        op.drop_index(name, table_name="messages")
        op.create_index(name, "messages", columns)
