"""Retention (PROTOCOL.md section 16): a topic's own ``retention_days`` (NULL: the server's
``PARLEY_RETENTION_DAYS``), and the indexes the sweep deletes a message's outbox rows by (the push
outbox and the digest's pending rows were only indexed by their due time and their pair).

The sweep keeps no state of its own: each batch deletes the oldest messages past the cutoff and
commits, so a sweep killed mid-way resumes where the rows say it stopped; one node at a time on
PostgreSQL is an advisory lock (``db.uow.Database.exclusive``), not a row.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-26 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("topics", sa.Column("retention_days", sa.Integer(), nullable=True))
    op.create_index("ix_push_outbox_message", "push_outbox", ["message_id"])
    op.create_index("ix_email_pending_message", "email_pending", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_email_pending_message", table_name="email_pending")
    op.drop_index("ix_push_outbox_message", table_name="push_outbox")
    # SQLite's own DROP COLUMN, not a batch: a batch rebuilds topics, and dropping the old table
    # breaks the foreign keys that name it (tests/db/test_search_migration.py's downgrade).
    op.drop_column("topics", "retention_days")
