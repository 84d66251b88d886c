"""Notifications (PROTOCOL.md section 15): preferences and email addresses, push subscriptions, the
jobs of messages that may notify, the push and mail outboxes, and the messages waiting for a digest.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-25 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notification_prefs",
        sa.Column("user_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("push", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("email", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("email_digest_minutes", sa.Integer(), nullable=False),
        sa.Column("quiet_from", sa.String(5), nullable=True),
        sa.Column("quiet_to", sa.String(5), nullable=True),
        sa.Column("email_address", sa.String(254), nullable=True),
        sa.Column("email_token", sa.String(32), nullable=True),
        _when("email_verified_at"),
        _when("last_digest_at"),
    )
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("endpoint_key", sa.String(64), nullable=False, unique=True),
        sa.Column("p256dh", sa.String(128), nullable=False),
        sa.Column("auth", sa.String(64), nullable=False),
        _when("created_at", nullable=False),
    )
    op.create_index("ix_push_subscriptions_user", "push_subscriptions", ["user_id"])
    op.create_table(
        "notify_jobs",
        sa.Column("message_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        _when("due_at", nullable=False),
        _when("locked_until"),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_notify_jobs_due", "notify_jobs", ["due_at"])
    op.create_table(
        "push_outbox",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("subscription_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("created_at", nullable=False),
        _when("next_at", nullable=False),
        _when("locked_until"),
        sa.UniqueConstraint("subscription_id", "message_id", name="uq_push_outbox_subscription_message"),
    )
    op.create_index("ix_push_outbox_due", "push_outbox", ["status", "next_at"])
    op.create_table(
        "email_pending",
        sa.Column("user_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("message_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        _when("due_at", nullable=False),
    )
    op.create_index("ix_email_pending_due", "email_pending", ["due_at"])
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("created_at", nullable=False),
        _when("next_at", nullable=False),
        _when("locked_until"),
    )
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["status", "next_at"])


def downgrade() -> None:
    for table in (
        "mail_outbox",
        "email_pending",
        "push_outbox",
        "notify_jobs",
        "push_subscriptions",
        "notification_prefs",
    ):
        op.drop_table(table)
