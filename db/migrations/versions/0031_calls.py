"""Calls (PROTOCOL.md section 18)

``calls``: the running calls, one per conversation at most; ``call_participants``: who is in
each, through which socket on which node.

Revision ID: 0031
Revises: 0029
Create Date: 2026-11-28 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("topic_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("media", sa.String(8), nullable=False),
        sa.Column("started_by", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "call_participants",
        sa.Column("call_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("peer", sa.String(32), nullable=False, unique=True),
        sa.Column("sid", sa.String(64), nullable=False),
        sa.Column("node", sa.String(255), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_call_participants_sid", "call_participants", ["sid"])
    op.create_index("ix_call_participants_node", "call_participants", ["node"])


def downgrade() -> None:
    op.drop_index("ix_call_participants_node", "call_participants")
    op.drop_index("ix_call_participants_sid", "call_participants")
    op.drop_table("call_participants")
    op.drop_table("calls")
