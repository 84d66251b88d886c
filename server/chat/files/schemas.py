"""DTOs of files (PROTOCOL.md section 11): an upload's File object and the size limit."""

from __future__ import annotations

from server.chat.kernel.schemas import Out


class ImageOut(Out):
    width: int
    height: int
    thumbnail_url: str


class FileOut(Out):
    """A File object (PROTOCOL.md section 11)."""

    id: str
    name: str
    size: int
    content_type: str
    sha256: str
    url: str
    image: ImageOut | None = None


class FileLimitsOut(Out):
    max_bytes: int
