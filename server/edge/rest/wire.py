"""REST's wire shapes for errors: a status per code and ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any

from server.chat.kernel.errors import ChatError
from server.edge.errors import HTTP_STATUS, error_body
from server.edge.validation import BODY, Spelling

# FastAPI's validation errors, worded for REST: ``<field>: <reason>``, the location prefix dropped.
REST = Spelling(whole=BODY.whole, not_json=BODY.not_json, drop=BODY.drop, empty="invalid request")


def http_error(error: ChatError) -> tuple[int, dict[str, Any]]:
    """The status and body of an error answer."""
    return HTTP_STATUS[error.code], {"error": error_body(error)}
