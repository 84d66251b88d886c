"""Small helpers shared by the REST tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.support import LiveServer

SECRET = "t" * 40  # the JWT secret of tests.support.test_settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is ``status`` with exactly ``{"error": {"code", "message"}}``, no traceback."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"].strip(), body
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body


async def user_count(server: LiveServer) -> int:
    async with server.chat.db.read() as repos:
        return await repos.users.count()


def utc(text: str) -> datetime:
    """Parse an ISO 8601 UTC time as the server writes it (``...Z``)."""
    assert text.endswith("Z"), text
    moment = datetime.fromisoformat(text[:-1] + "+00:00")
    assert moment.utcoffset() == timedelta(0)
    return moment
