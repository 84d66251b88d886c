"""Erasure (PROTOCOL.md section 16): the durable job of an account being erased, and when its
erasure finished.

``DELETE /api/users/me`` (or ``parley user delete NAME --erase``) disables the account and writes
its job in the same transaction; a worker (one node at a time per job: ``locked_until``) deletes
what is the user's in batches and, at the end, sets ``users.erased_at`` and removes the job. The
job row is what makes the erasure resume after a crash.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-26 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure_jobs",
        sa.Column("user_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("users", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_reactions_user", "reactions", ["user_id"])  # an erasure withdraws a user's


def downgrade() -> None:
    op.drop_index("ix_reactions_user", table_name="reactions")
    # Not a batch: a batch rebuilds users on SQLite, and dropping the old table breaks every foreign
    # key that names it (seen in tests/db/test_search_migration.py's downgrade); SQLite's own DROP
    # COLUMN, as 0010 and 0018 do.
    op.drop_column("users", "erased_at")
    op.drop_table("erasure_jobs")
