"""Wire shapes every transport shares: a result as JSON, and the echo history's paging."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel

from server.chat.echo.service import PAGE
from server.chat.kernel.schemas import MAX_STORED_INT, MessageOut


def to_json(data: Any) -> Any:
    """A service's result as JSON-ready data (a message's cached wire form; ``{}`` for nothing)."""
    if isinstance(data, MessageOut):
        return data.wire
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if data is None:
        return {}
    return data


# The echo history's paging (PROTOCOL.md section 5), for REST and the echo dialect alike: newest
# first, at most PAGE (20) a page, ``before`` the oldest id of the previous page.
HistoryBefore = Annotated[
    int | None, Query(ge=1, le=MAX_STORED_INT, description="the oldest id of the previous page")
]
HistoryLimit = Annotated[int, Query(ge=1, le=PAGE, description="transcripts a page, at most 20")]
