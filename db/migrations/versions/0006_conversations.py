"""conversations: replies, threads, reactions, mentions, notification levels, pins, system messages

PROTOCOL.md section 8. New columns on ``messages`` (all nullable or with a server default, so
existing rows need no rewrite: they are plain text messages without replies or reactions), the
membership's ``notify_level``, and three tables: ``reactions`` (one row per message, user and
emoji), ``mentions`` (one row per message and mentioned member, indexed for "mentions of user U
in topic T above seq S") and ``pins``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 07:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE_COLUMNS = (
    sa.Column("reply_to_id", sa.BigInteger(), nullable=True),
    sa.Column("reply_to", sa.Text(), nullable=True),
    sa.Column("thread_root_id", sa.BigInteger(), nullable=True),
    sa.Column("thread_count", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("thread_last_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("thread_participants", sa.Text(), nullable=True),
    sa.Column("mentions", sa.Text(), nullable=True),
    sa.Column("mentions_all", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    sa.Column("reactions", sa.Text(), nullable=True),
    sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    sa.Column("type", sa.String(length=8), nullable=False, server_default="text"),
    sa.Column("system", sa.Text(), nullable=True),
)


def upgrade() -> None:
    for column in MESSAGE_COLUMNS:
        op.add_column("messages", column)
    op.add_column(
        "memberships", sa.Column("notify_level", sa.String(length=8), nullable=False, server_default="all")
    )
    op.create_index("ix_messages_reply_to_id", "messages", ["reply_to_id"])
    op.create_index("ix_messages_thread", "messages", ["thread_root_id", "id"])
    op.create_index(
        "ix_messages_system",
        "messages",
        ["topic_id", "seq"],
        sqlite_where=sa.text("type = 'system'"),
        postgresql_where=sa.text("type = 'system'"),
    )
    op.create_index(
        "ix_messages_mentions_all",
        "messages",
        ["topic_id", "seq"],
        sqlite_where=sa.text("mentions_all"),
        postgresql_where=sa.text("mentions_all"),
    )
    op.create_table(
        "reactions",
        sa.Column("message_id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("emoji", sa.String(length=32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "mentions",
        sa.Column("message_id", sa.BigInteger(), primary_key=True),
        sa.Column("user_id", sa.Integer(), primary_key=True),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
    )
    op.create_index("ix_mentions_user_topic_seq", "mentions", ["user_id", "topic_id", "seq"])
    op.create_table(
        "pins",
        sa.Column("topic_id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.BigInteger(), primary_key=True),
        sa.Column("pinned_by", sa.Integer(), nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pins")
    op.drop_index("ix_mentions_user_topic_seq", table_name="mentions")
    op.drop_table("mentions")
    op.drop_table("reactions")
    for name in ("ix_messages_mentions_all", "ix_messages_system", "ix_messages_thread", "ix_messages_reply_to_id"):
        op.drop_index(name, table_name="messages")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("notify_level")
    with op.batch_alter_table("messages") as batch:
        for column in reversed(MESSAGE_COLUMNS):
            batch.drop_column(column.name)
