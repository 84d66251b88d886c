"""Rich messages (PROTOCOL.md section 13): a message's links and previews, the queue of messages
waiting for previews, the per-URL cache and the re-encoded pictures.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-25 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("links", sa.Text(), nullable=True))
    op.add_column("messages", sa.Column("previews", sa.Text(), nullable=True))
    op.add_column(
        "messages", sa.Column("previews_off", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "preview_jobs",
        sa.Column("message_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_preview_jobs_due", "preview_jobs", ["due_at"])
    op.create_table(
        "link_previews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("image_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "preview_images",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "message_preview_images",
        sa.Column("message_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("image_id", sa.Integer(), primary_key=True, autoincrement=False),
    )
    op.create_index("ix_message_preview_images_image", "message_preview_images", ["image_id"])


def downgrade() -> None:
    op.drop_table("message_preview_images")
    op.drop_table("preview_images")
    op.drop_table("link_previews")
    op.drop_table("preview_jobs")
    # Not a batch: SQLite's own DROP COLUMN keeps the search view on ``messages``.
    op.drop_column("messages", "previews_off")
    op.drop_column("messages", "previews")
    op.drop_column("messages", "links")
