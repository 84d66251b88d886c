"""When a user's tokens were last revoked (PROTOCOL.md section 17)

``users.tokens_revoked_at``: set with each bump of ``token_version`` (a logout, a disable, the
server API's disconnect with ``revoke``). A token the application signed carries no token version;
one issued (``iat``) at or before this moment is refused.

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-28 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("tokens_revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Not a batch (a copy of ``users``): SQLite would refuse to drop the table the others' rows
    # point at. Both databases drop a column in place (SQLite since 3.35).
    op.execute("ALTER TABLE users DROP COLUMN tokens_revoked_at")
