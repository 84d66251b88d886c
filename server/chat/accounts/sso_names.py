"""What a single sign-on's new account is called (PROTOCOL.md section 14).

The username comes from the provider's ``preferred_username`` (its local part, for an email
address), else from the ``name``, else is "user": accents folded away, every run of characters
outside the username rule (section 3: ``A-Z a-z 0-9 _ . -``) made one ``_``, clipped to 32, and a
name under 3 characters given ``_user``. It is made unique by a numeric suffix (``alice``,
``alice2``, ``alice3``...) by the caller, which tries each in turn: a name is never a link to an
existing account. The display name is the provider's ``name`` cleaned to the profile's rule:
control and bidi characters dropped, whitespace collapsed, at most 64 characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from server.chat.kernel.schemas import BIDI_CONTROLS, CONTROL, visible

MIN_NAME, MAX_NAME = 3, 32
MAX_DISPLAY = 64
NUMBERED = 99  # alice2 .. alice99, then random suffixes
OUTSIDE = re.compile(r"[^A-Za-z0-9_.\-]+")
SPACES = re.compile(r"\s+")


def username_base(preferred_username: str | None, name: str | None) -> str:
    """The name a new account is tried under first."""
    for source in (preferred_username, name):
        if source:
            made = _cleaned(source.split("@")[0] if "@" in source.strip("@") else source)
            if made:
                return made if len(made) >= MIN_NAME else f"{made}_user"
    return "user"


def _cleaned(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return OUTSIDE.sub("_", plain).strip("_.-")[:MAX_NAME]


def candidates(base: str, extra: Iterator[str]) -> Iterator[str]:
    """``base``, then ``base2`` .. ``base99``, then ``base`` with each suffix of ``extra`` (random
    ones): each clipped so that the whole stays within 32 characters."""
    yield base
    for number in range(2, NUMBERED + 1):
        yield _suffixed(base, str(number))
    for suffix in extra:
        yield _suffixed(base, suffix)


def _suffixed(base: str, suffix: str) -> str:
    return base[: MAX_NAME - len(suffix)] + suffix


def display_name(name: str | None) -> str:
    """The provider's ``name`` as a display name, or "" when nothing visible is left."""
    text = BIDI_CONTROLS.sub("", CONTROL.sub(" ", name or ""))
    text = "".join(char for char in text if unicodedata.category(char) != "Cs")  # no lone surrogate
    text = SPACES.sub(" ", text).strip()[:MAX_DISPLAY].strip()
    return text if any(visible(char) for char in text) else ""
