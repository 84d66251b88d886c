"""Helpers of the bot tests (PROTOCOL.md section 12): a user who owns bots, REST calls with a
Bearer, a bot with an API token."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import LiveServer, bearer


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"], body


class Api:
    """One caller's REST view of the server."""

    def __init__(self, live_server: LiveServer, token: str) -> None:
        self.http = live_server.http
        self.token = token
        self.headers = bearer(token)

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(path, headers=self.headers)

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.headers)

    async def delete(self, path: str) -> httpx.Response:
        return await self.http.delete(path, headers=self.headers)


async def user_api(live_server: LiveServer, name: str) -> Api:
    return Api(live_server, await live_server.register(name))


async def bot_with_token(owner: Api, name: str, label: str = "ci") -> tuple[str, str]:
    """Create bot ``name`` as ``owner`` and make it a token: (token id, token)."""
    ok(await owner.post("/api/bots", {"username": name}), 201)
    made = ok(await owner.post(f"/api/bots/{name}/tokens", {"label": label}), 201)
    return made["id"], made["token"]
