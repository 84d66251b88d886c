"""A thread's summary on its root, as SQL both databases run: the send batch (``db/sends.py``) after
a reply, and the ORM's twin ``MessageRepository.refresh_thread`` after an edit or a delete."""

from __future__ import annotations

# A thread's summary on its root, from its replies that are not deleted (both databases; the
# ORM's twin is ``MessageRepository.refresh_thread``): count, newest time, the last 10 repliers.
THREAD_COUNT = (
    "SELECT count(*), max(created_at) FROM messages WHERE thread_root_id = {0} AND deleted_at IS NULL"
)
THREAD_REPLIERS = (
    "SELECT u.username FROM messages g JOIN users u ON u.id = g.sender_id"
    " WHERE g.thread_root_id = {0} AND g.deleted_at IS NULL"
    " GROUP BY u.id, u.username ORDER BY max(g.id) DESC LIMIT 10"
)
THREAD_UPDATE = (
    "UPDATE messages SET thread_count = {0}, thread_last_at = {1}, thread_participants = {2} WHERE id = {3}"
)
