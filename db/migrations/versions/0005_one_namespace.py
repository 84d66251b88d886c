"""one namespace: rename every topic that has a username's name (PROTOCOL.md section 3)

Topic names and usernames became one namespace (the original protocol's ``message {topic_name}``
sends to the topic of that name or else to the user, so a topic named like a user took that
user's direct messages). Existing collisions are resolved here: each public or private topic whose
name equals a username (any case) is renamed ``<name>-topic``, or ``<name>-topic-2``, ``-3`` ... the
first name no topic and no user has; direct conversations are never touched. Each rename is logged
(logger ``parley.migrations``, WARNING) with the old and the new name, for the operator to tell the
members. Messages, memberships and seq stay with the topic (its id does not change).

Downgrade renames nothing back: the old names would collide again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 02:00:00
"""
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("parley.migrations")
MAX_NAME = 64  # a topic name's longest (PROTOCOL.md section 3)

COLLISIONS = sa.text(
    "SELECT t.id, t.name FROM topics t JOIN users u ON u.username_key = t.name_key"
    " WHERE t.kind != 'direct' ORDER BY t.id"
)
TAKEN = sa.text(
    "SELECT 1 FROM topics WHERE name_key = :key UNION ALL SELECT 1 FROM users WHERE username_key = :key"
)
RENAME = sa.text("UPDATE topics SET name = :name, name_key = :key WHERE id = :id")


def free_name(connection: sa.Connection, name: str) -> str:
    """``<name>-topic``, else ``<name>-topic-2``, ``-3`` ...: the first no topic or user has."""
    number = 1
    while True:
        suffix = "-topic" if number == 1 else f"-topic-{number}"
        candidate = name[: MAX_NAME - len(suffix)] + suffix
        if connection.execute(TAKEN, {"key": candidate.lower()}).first() is None:
            return candidate
        number += 1


def upgrade() -> None:
    connection = op.get_bind()
    for topic_id, name in connection.execute(COLLISIONS).all():
        new_name = free_name(connection, name)
        connection.execute(RENAME, {"name": new_name, "key": new_name.lower(), "id": topic_id})
        log.warning(
            "topic %r renamed %r: a user has its name (topic names and usernames are one namespace)",
            name,
            new_name,
        )


def downgrade() -> None:
    pass
