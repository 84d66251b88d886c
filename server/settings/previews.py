"""Link previews (server/chat/previews/; PROTOCOL.md section 13; docs/previews.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from server.settings.values import CsvList


class PreviewsSettings(BaseModel):
    """The server fetches the pages its messages link to (``previews`` off: nothing is fetched),
    through the webhooks' address guard with its own allow list, and keeps each URL's preview
    ``preview_ttl`` seconds."""

    previews: bool = Field(default=True, description="fetch link previews (PARLEY_PREVIEWS=off: never)")
    preview_allow_hosts: CsvList = Field(default_factory=list)
    preview_ttl: float = Field(default=86400.0, gt=0, description="seconds a URL's preview is kept")
