"""Joining the workspace (PROTOCOL.md section 19): its settings and invites

``workspace_settings``: one row per setting an admin stored (``registration``,
``allowed_domains``, ``members_invite``; a missing key has the server's default). ``invites``:
invitations, each kept as the SHA-256 of its code, with its uses, expiry, email and topics;
``oidc_flows.invite``: the code a single sign-on started from an invitation carries.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-27 19:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace_settings",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_invites_created", "invites", ["created_at"])
    # A sign-in started from an invitation's link carries its code to the account it makes.
    op.add_column("oidc_flows", sa.Column("invite", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("oidc_flows", "invite")  # SQLite's own DROP COLUMN: no table copied
    op.drop_index("ix_invites_created", table_name="invites")
    op.drop_table("invites")
    op.drop_table("workspace_settings")
