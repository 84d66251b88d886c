"""No login path tells whether a username exists (issue 18 item 5; PROTOCOL.md section 6).

An unknown username and a wrong password get the same answer, status and text, on REST and on the
gateway dialects that log in with a password (echo, messenger); and an unknown username still
costs one bcrypt check (against a dummy hash), so the time taken does not tell either. (The rooms
dialect logs in with a token: tests/edge/gateway/test_rooms_dialect.py.)
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import PASSWORD, LiveServer

PATHS = [
    pytest.param("/api/auth/login", "username", "password", id="rest"),
    pytest.param("/compat/echo/login", "username", "password", id="echo"),
    pytest.param("/compat/messenger/user/login", "Username", "Password", id="messenger"),
]


@pytest.mark.parametrize(("path", "user_field", "password_field"), PATHS)
async def test_an_unknown_user_and_a_wrong_password_get_one_answer(
    live_server: LiveServer, path: str, user_field: str, password_field: str
):
    await live_server.register("alice")
    hasher = live_server.chat.users.hasher

    async def login(username: str, password: str) -> tuple[int, Any]:
        response = await live_server.http.post(path, json={user_field: username, password_field: password})
        return response.status_code, response.json()

    wrong = await login("alice", "not-the-password")
    assert hasher._dummy is None  # no dummy check yet: alice's own hash was checked
    unknown = await login("nobody", "not-the-password")

    assert wrong == unknown
    assert wrong[0] == 401
    assert hasher._dummy is not None  # the unknown user cost a bcrypt check against the dummy hash
    assert (await login("alice", PASSWORD))[0] == 200
