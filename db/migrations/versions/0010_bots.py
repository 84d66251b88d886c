"""bots: bot accounts, their API tokens, incoming webhooks (PROTOCOL.md section 12)

``users`` gains ``bot`` (a bot account: no password, an owner) and ``owner_id`` (the user who
created it; a plain id, see ``upgrade``); ``messages`` gains ``bot``, copied from the sender at insert so that every rendering
of a message reads one row. Two tables: ``bot_tokens`` (a bot's API tokens, stored as the SHA-256
of the token only; revoked ones stay, with ``revoked_at``) and ``hooks`` (incoming webhooks: a
topic, the bot that posts, the SHA-256 of the URL's secret).

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-23 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain columns, no batch: SQLite would rebuild ``users`` (which every table refers to) for a
    # foreign key, and its downgrade could not drop the old table. ``owner_id`` is an id like
    # ``bans.banned_by``; the service sets it.
    op.add_column("users", sa.Column("bot", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("users", sa.Column("owner_id", sa.Integer(), nullable=True))
    op.add_column("messages", sa.Column("bot", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "bot_tokens",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_bot_tokens_user_id", "bot_tokens", ["user_id"])
    op.create_table(
        "hooks",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_hooks_topic_id", "hooks", ["topic_id"])


def downgrade() -> None:
    op.drop_index("ix_hooks_topic_id", table_name="hooks")
    op.drop_table("hooks")
    op.drop_index("ix_bot_tokens_user_id", table_name="bot_tokens")
    op.drop_table("bot_tokens")
    op.drop_column("messages", "bot")  # not a batch: SQLite's own DROP COLUMN keeps the search view
    op.drop_column("users", "owner_id")
    op.drop_column("users", "bot")
