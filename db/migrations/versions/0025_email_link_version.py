"""Unsubscribe links (PROTOCOL.md section 15): the version of a user's email setting

``notification_prefs.email_version`` is signed into every digest's unsubscribe link and bumped when
the user turns email back on, so a link from an earlier mail cannot turn it off again. Existing
rows start at 0; links written before this revision carry no version and no expiry and are void.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-27 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notification_prefs",
        sa.Column("email_version", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    with op.batch_alter_table("notification_prefs") as batch:
        batch.drop_column("email_version")
