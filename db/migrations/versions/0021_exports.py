"""Exports (PROTOCOL.md section 16): a user's requests for their data and the state of each ZIP.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-26 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        _when("requested_at", nullable=False),
        _when("ready_at"),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _when("locked_until"),
    )
    op.create_index("ix_exports_user", "exports", ["user_id", "requested_at"])
    op.create_index("ix_exports_state", "exports", ["state", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_exports_state", table_name="exports")
    op.drop_index("ix_exports_user", table_name="exports")
    op.drop_table("exports")
