"""recovery_session: Socket.IO connection-state recovery

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 18:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('recovery_session',
    sa.Column('pid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('pid')
    )
    with op.batch_alter_table('recovery_session', schema=None) as batch_op:
        batch_op.create_index('ix_recovery_session_seen_at', ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recovery_session', schema=None) as batch_op:
        batch_op.drop_index('ix_recovery_session_seen_at')

    op.drop_table('recovery_session')
