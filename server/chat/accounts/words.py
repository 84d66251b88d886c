"""The directory's words (PROTOCOL.md section 14): what ``users:search`` matches a prefix against.

A user is found by any word of the username or the display name, case- and accent-insensitively:
each word is folded once, when the name is set (NFKD, combining marks dropped, ``casefold``), and
kept in the ``user_words`` index, so a search is a range read of it (``db/accounts/users.py``),
never a scan of the users. Usernames are split on ``.``, ``_`` and ``-`` too ("ada.lovelace" is
found by "love", a prefix of "lovelace"), and the whole username is a word of its own.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WORD = 64  # the index's column; a longer word is kept to its first 64 characters
SPLIT = re.compile(r"[\s._\-]+")


def fold(text: str) -> str:
    """Case- and accent-free: ``Élodie`` and ``elodie`` are the same word."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words_of(username: str, display_name: str = "") -> list[str]:
    """The distinct folded words a user is found by, the whole username first."""
    found: list[str] = []
    for word in (username, *SPLIT.split(username), *SPLIT.split(display_name)):
        folded = fold(word)[:MAX_WORD]
        if folded and folded not in found:
            found.append(folded)
    return found
