"""moderation: roles, bans, mutes, topic descriptions and archives, blocks, reports

PROTOCOL.md section 10. ``memberships.role`` widens to 16 characters (``moderator`` did not fit
8 on PostgreSQL) and gains the mute (``muted_at``, ``muted_until``); topics gain ``description``
and ``archived_at``; three tables: ``bans`` (per topic and user, with an optional end),
``blocks`` (who blocked whom) and ``reports`` (a message reported to the operator).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 08:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.alter_column("role", type_=sa.String(length=16), existing_type=sa.String(length=8))
        batch.add_column(sa.Column("muted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("muted_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("topics", sa.Column("description", sa.Text(), nullable=False, server_default=""))
    op.add_column("topics", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "bans",
        sa.Column("topic_id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), primary_key=True),
        sa.Column("banned_by", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "blocks",
        sa.Column("user_id", sa.Integer(), primary_key=True),
        sa.Column("blocked_id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_blocks_blocked_id", "blocks", ["blocked_id"])
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_reports_created_at", "reports", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_reports_created_at", table_name="reports")
    op.drop_table("reports")
    op.drop_index("ix_blocks_blocked_id", table_name="blocks")
    op.drop_table("blocks")
    op.drop_table("bans")
    with op.batch_alter_table("topics") as batch:
        batch.drop_column("archived_at")
        batch.drop_column("description")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("muted_until")
        batch.drop_column("muted_at")
        batch.alter_column("role", type_=sa.String(length=8), existing_type=sa.String(length=16))
