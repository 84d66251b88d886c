"""DTOs of search (PROTOCOL.md section 9): a query, a page of hits, and a reindex's count."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from server.chat.kernel.schemas import CONTROL, TOPIC_ALIASES, In, MessageOut, Out, TopicName, Username


def _query_text(value: str) -> str:
    """A search query: valid Unicode; control characters (NUL included) are spaces, never an error
    (anything typed is searched as words)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogate)") from None
    return CONTROL.sub(" ", value)


SearchText = Annotated[str, StringConstraints(min_length=1, max_length=256), AfterValidator(_query_text)]
SearchCursor = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class SearchIn(In):
    q: SearchText
    topic: TopicName | None = Field(default=None, validation_alias=TOPIC_ALIASES)
    with_: Username | None = Field(default=None, alias="with")
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: SearchCursor | None = None

    @model_validator(mode="after")
    def _one_place(self) -> SearchIn:
        if self.topic is not None and self.with_ is not None:
            raise ValueError("at most one of 'topic' and 'with'")
        return self


class SearchHitOut(Out):
    message: MessageOut
    highlight: str


class SearchPageOut(Out):
    hits: list[SearchHitOut]
    next: str | None


class ReindexOut(Out):
    """What ``parley search reindex`` did: the messages now indexed, and the index's size."""

    messages: int
    bytes: int
