"""hooks: whether the hook's bot was made for it (``bot_made``), so that revoking the hook can
disable that bot rather than leave it enabled with no hook to post for. Hooks made before this
migration say false: a bot is never disabled on a guess (their bots stay enabled, as before).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 10:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("hooks", sa.Column("bot_made", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("hooks") as batch:
        batch.drop_column("bot_made")
