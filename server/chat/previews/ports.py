"""What the previews capability needs from the outside world: a way to read a web page and a
picture. The adapter (``server/adapters/preview_http.py``) fetches through the webhooks' address
guard; the domain never does network I/O itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Page:
    """What a web page says about itself: plain text, already cut to the protocol's lengths."""

    title: str  # never empty: a page without a title gives no Page
    description: str  # "" when it has none
    site_name: str  # "" when it has none
    image_url: str | None  # absolute http(s) URL of its preview picture, if it names one


@dataclass(frozen=True)
class Picture:
    """A preview picture re-encoded by Parley: at most 640 pixels wide, no metadata."""

    data: bytes
    content_type: str  # image/png, image/jpeg, image/gif or image/webp
    width: int
    height: int


class PageSource(Protocol):
    """Fetches for previews. Both methods answer None (never raise) for anything that gives no
    preview: a refused address, a timeout, too many bytes or redirects, not HTML, no title, a
    picture that cannot be decoded or is too big."""

    async def page(self, url: str) -> Page | None: ...

    async def picture(self, url: str) -> Picture | None: ...

    async def close(self) -> None: ...
