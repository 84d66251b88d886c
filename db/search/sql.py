"""The search query both databases run, written once with a placeholder for the text match.

Only our own constants are ever formatted into it; everything the user typed arrives as a bind
parameter (``:name``, which SQLAlchemy's ``text`` and our SQLite runner both bind).
"""

from __future__ import annotations

from db.conversations.extras import EXTRAS_COLUMNS
from db.search import SearchQuery

# Who may read what (PROTOCOL.md sections 3, 9, 10): public topics, the viewer's topics and direct
# conversations; never a deleted message, never a sender the viewer blocked. An archived topic is
# still read (and searched).
# The hits are chosen first on ids and times alone (the sort holds two columns, not whole rows),
# then read with what they are shown with.
SELECT = """
SELECT g.id FROM messages g
JOIN topics t ON t.id = g.topic_id
WHERE g.deleted_at IS NULL
"""
ACCESS = """    AND (t.kind = 'public' OR EXISTS (
        SELECT 1 FROM memberships m WHERE m.topic_id = g.topic_id AND m.user_id = :viewer))
    AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.user_id = :viewer AND b.blocked_id = g.sender_id)
"""
# ``is:mention``: the viewer named (mention rows never name the sender), or ``@all`` said by
# someone else in one of the viewer's conversations, as the Topic's ``mentions`` count reads it.
MENTIONED = """g.id IN (
        SELECT mn.message_id FROM mentions mn WHERE mn.user_id = :viewer
        UNION ALL
        SELECT a.id FROM memberships am JOIN messages a ON a.topic_id = am.topic_id AND a.mentions_all
        WHERE am.user_id = :viewer AND a.sender_id != :viewer)"""
ORDER = "ORDER BY g.created_at DESC, g.id DESC LIMIT :limit"
SHOW = (
    """
SELECT g.id, g.topic_id, g.seq, g.sender_id, g.body, g.client_id, g.created_at, g.edited_at,
    s.username, t.name, t.kind,
    CASE WHEN t.kind = 'direct' THEN (
        SELECT u.username FROM memberships o JOIN users u ON u.id = o.user_id
        WHERE o.topic_id = t.id AND o.user_id != :viewer LIMIT 1) END, """
    + ", ".join(f"g.{name}" for name in EXTRAS_COLUMNS)
    + """
FROM messages g
JOIN topics t ON t.id = g.topic_id
JOIN users s ON s.id = g.sender_id
WHERE g.id IN ({hits})
ORDER BY g.created_at DESC, g.id DESC
"""
)


def shown(query: str) -> str:
    """``query`` (``SELECT`` + conditions + ``ORDER``: the hits' ids) read as full rows."""
    return SHOW.format(hits=query)


def conditions(query: SearchQuery, match: str | None, exclude: str | None) -> str:
    """The WHERE clauses after ``SELECT``'s for ``query``; ``match`` and ``exclude`` are the
    database's own clause for the positive and the negated terms (None: no such terms)."""
    parts = []
    access = "" if query.everything else ACCESS  # an operator's search (the Admin UI) reads all
    if match:
        parts.append(match)
    if exclude:
        parts.append(exclude)
    if query.topic_id is not None:
        parts.append("g.topic_id = :topic_id")
    if query.sender_id is not None:
        parts.append("g.sender_id = :sender_id")
    if query.after is not None:
        parts.append("g.created_at >= :after")
    if query.before is not None:
        parts.append("g.created_at < :before")
    # Mentions and thread replies are few: the query starts from them (their indexes), not from time.
    if query.mention:
        parts.append(MENTIONED)
    if query.thread:
        parts.append("g.id IN (SELECT r.id FROM messages r WHERE r.thread_root_id IS NOT NULL)")
    if query.has_file:
        # PROTOCOL.md section 11: a message with files keeps their File objects (deleted: NULL).
        parts.append("g.files IS NOT NULL")
    if query.cursor is not None:
        parts.append("(g.created_at < :cursor_at OR (g.created_at = :cursor_at AND g.id < :cursor_id))")
    return access + "".join(f"    AND {part}\n" for part in parts)
