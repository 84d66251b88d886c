"""files: uploaded files and what a message carries of them (PROTOCOL.md section 11)

``files`` holds one row per upload (the blob itself is content-addressed in the file store, so
rows share a blob by ``sha256``); ``message_id`` is set, once, by the send that attaches it.
``messages.files`` keeps the attached files' File objects as JSON, so every rendering reads one
row (as the conversation columns of 0006 do).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("uploader_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_files_uploader", "files", ["uploader_id", "created_at"])
    op.create_index("ix_files_message", "files", ["message_id"])
    op.create_index("ix_files_sha256", "files", ["sha256"])
    op.add_column("messages", sa.Column("files", sa.Text(), nullable=True))


def downgrade() -> None:
    # Not a batch copy of ``messages``: its full-text triggers (0008) stay as they are.
    op.get_bind().exec_driver_sql("ALTER TABLE messages DROP COLUMN files")
    op.drop_index("ix_files_sha256", table_name="files")
    op.drop_index("ix_files_message", table_name="files")
    op.drop_index("ix_files_uploader", table_name="files")
    op.drop_table("files")
