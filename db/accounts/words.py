"""The directory's index read by prefix (PROTOCOL.md section 14): ``user_words`` holds each word of a
username and display name, folded (``server/chat/accounts/words.py``). ``word >= q AND word < q +
U+10FFFF`` is a prefix in byte order, which is SQLite's order and the "C" collation the column has on
PostgreSQL, so the index answers it (no scan of the users however many there are). The directory's
search (``db/people``) and a topic's member search (``db/conversations/memberships.py``) read it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlmodel import col

from db.accounts.tables import User, UserWord

PAST_EVERY_WORD = "\U0010ffff"  # after any word that starts with the prefix, in byte order


def word_range(prefix: str) -> Select[int]:
    """The ids of the users with a word starting with ``prefix`` (folded): a range of the index."""
    return select(col(UserWord.user_id)).where(
        col(UserWord.word) >= prefix, col(UserWord.word) < prefix + PAST_EVERY_WORD
    )


def search_rank(prefix: str) -> ColumnElement[int]:
    """PROTOCOL.md section 14's order of a directory search: 0 the exact username, 1 the exact display
    name, 2 a username starting with ``prefix``, 3 a display name starting with it, 4 a word of either.
    A username is ASCII, so its key is its folded form; a display name is compared in SQL's lower case
    (both databases agree on ASCII; one with accents or other scripts ranks among the words)."""
    display = func.lower(col(User.display_name))
    length = len(prefix)
    return case(
        (col(User.username_key) == prefix, 0),
        (display == prefix, 1),
        (func.substr(col(User.username_key), 1, length) == prefix, 2),
        (func.substr(display, 1, length) == prefix, 3),
        else_=4,
    )
