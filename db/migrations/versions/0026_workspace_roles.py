"""Workspace roles (PROTOCOL.md section 19): ``users.role``, owner, admin or member

Every account becomes a member; the oldest active account (not a bot, not disabled, deleted or
erased) becomes the owner, so that an existing server has someone who administers it, and the
log names it (an operator changes it with ``parley user role``). A server with no such account
gets its owner at its first sign-up.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-27 19:00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("parley.migrations")

OLDEST_ACTIVE = sa.text(
    "SELECT id, username FROM users WHERE bot = false AND disabled_at IS NULL AND deleted_at IS NULL"
    " AND erased_at IS NULL ORDER BY created_at, id LIMIT 1"
)


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("role", sa.String(16), nullable=False, server_default="member")
    )
    connection = op.get_bind()
    oldest = connection.execute(OLDEST_ACTIVE).first()
    if oldest is None:
        log.warning("workspace roles: no active account yet; the first to sign up will own the workspace")
        return
    connection.execute(sa.text("UPDATE users SET role = 'owner' WHERE id = :id"), {"id": oldest.id})
    log.warning(
        "workspace roles: %r (the oldest active account) now owns the workspace; "
        "change it with `parley user role USERNAME owner`",
        oldest.username,
    )


def downgrade() -> None:
    # Not a batch: a batch copies ``users`` and drops the original, which the foreign keys of
    # later tables (sessions, invites) refuse on SQLite; its own DROP COLUMN keeps them, as 0010.
    op.drop_column("users", "role")
