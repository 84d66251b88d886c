"""People (PROTOCOL.md section 14): profiles, status and availability on ``users``, avatars on
``files``, the directory's word index, and single sign-on's identities, flows and one-time codes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-25 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORD = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")


def upgrade() -> None:
    op.add_column("users", sa.Column("display_name", sa.String(64), nullable=False, server_default=""))
    op.add_column("users", sa.Column("title", sa.String(64), nullable=False, server_default=""))
    op.add_column("users", sa.Column("timezone", sa.String(64), nullable=False, server_default=""))
    op.add_column("users", sa.Column("avatar_file_id", sa.String(32), nullable=True))
    op.add_column("users", sa.Column("status_emoji", sa.String(64), nullable=True))
    op.add_column("users", sa.Column("status_text", sa.String(100), nullable=True))
    op.add_column("users", sa.Column("status_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("availability", sa.String(8), nullable=False, server_default="auto"))
    op.add_column("users", sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("users", sa.Column("idle", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("files", sa.Column("avatar", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "user_words",
        sa.Column("word", WORD, primary_key=True),
        sa.Column("user_id", sa.Integer(), primary_key=True, autoincrement=False),
    )
    op.create_index("ix_user_words_user", "user_words", ["user_id"])
    # Every account so far is found by its username (lower-cased: usernames are ASCII).
    op.execute("INSERT INTO user_words (word, user_id) SELECT lower(username), id FROM users")
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("issuer", "subject", name="uq_identities_issuer_subject"),
    )
    op.create_index("ix_identities_user", "identities", ["user_id"])
    op.create_table(
        "oidc_flows",
        sa.Column("state", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("verifier", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "login_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("login_codes")
    op.drop_table("oidc_flows")
    op.drop_table("identities")
    op.drop_table("user_words")
    # Not a batch: SQLite's own DROP COLUMN keeps what depends on these tables.
    op.drop_column("files", "avatar")
    for column in (
        "idle",
        "last_active_at",
        "availability",
        "status_expires_at",
        "status_text",
        "status_emoji",
        "avatar_file_id",
        "timezone",
        "title",
        "display_name",
    ):
        op.drop_column("users", column)
