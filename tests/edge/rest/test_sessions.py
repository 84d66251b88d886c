"""Sessions that last and passwords (PROTOCOL.md section 19) over a real server: the refresh
cookie, its rotation and reuse detection, two tabs refreshing at once, the list of sessions,
signing one out (its token refused, its socket closed), logout, changing the password and a
reset mailed through the suite's real SMTP server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.smtp_server import SmtpServer, smtp_server
from tests.support import PASSWORD, WAIT, Client, LiveServer, bearer, running_on
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.asyncio(loop_scope="function")
COOKIE = "parley_refresh"


@pytest_asyncio.fixture
async def smtp(tmp_path: Path) -> AsyncIterator[SmtpServer]:
    with smtp_server(tmp_path / "smtp") as server:
        yield server


@pytest_asyncio.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def live(request: pytest.FixtureRequest, tmp_path: Path, smtp: SmtpServer) -> AsyncIterator[LiveServer]:
    """A server over a fresh SQLite file, and over a fresh PostgreSQL database."""
    settings = settings_for(
        tmp_path / "data", smtp_url=smtp.url(), smtp_from="Parley <parley@example.com>", refresh_grace=5.0
    )
    async with running_on(settings, request.param) as server:
        yield server


async def closed(client: Client) -> None:
    """Wait (bounded) until the server closed ``client``'s socket."""
    async with asyncio.timeout(WAIT):
        while client.connected:
            await asyncio.sleep(0.02)  # polls a state, bounded: no sleep stands for an event here


def refresh_cookie(response: httpx.Response) -> str:
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}="))
    return header.split(";", 1)[0].split("=", 1)[1]


async def login(live: LiveServer, username: str, agent: str = "test") -> tuple[str, str]:
    response = await live.http.post(
        "/api/auth/login", json={"username": username, "password": PASSWORD}, headers={"user-agent": agent}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"], refresh_cookie(response)


async def refresh(live: LiveServer, cookie: str) -> httpx.Response:
    live.http.cookies.clear()
    return await live.http.post("/api/auth/refresh", headers={"cookie": f"{COOKIE}={cookie}"})


async def test_login_sets_the_refresh_cookie(live: LiveServer) -> None:
    await live.register("alice")
    response = await live.http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}="))
    parts = [part.strip().lower() for part in header.split(";")]
    assert "httponly" in parts and "samesite=strict" in parts and "path=/api/auth" in parts
    assert f"max-age={30 * 86400}" in parts and "secure" not in parts  # plain HTTP here
    claims = await live.http.get("/api/users/me", headers=bearer(response.json()["token"]))
    assert claims.status_code == 200


async def test_a_sign_up_alone_opens_no_session_and_its_logout_revokes_every_token(live: LiveServer) -> None:
    """Section 6's token: no refresh cookie, no session listed; its logout revokes every token of
    the user (a session's too), as section 6 says."""
    response = await live.http.post("/api/users", json={"username": "bob", "password": PASSWORD})
    assert response.status_code == 201
    assert "parley_refresh" not in response.headers.get("set-cookie", "")
    token = response.json()["token"]
    later, _ = await login(live, "bob")
    listed = await live.http.get("/api/users/me/sessions", headers=bearer(token))
    assert [s["current"] for s in listed.json()] == [False]  # the login's, not this token's
    live.http.cookies.clear()
    assert (await live.http.post("/api/auth/logout", headers=bearer(token))).status_code == 204
    for revoked in (token, later):
        me = await live.http.get("/api/users/me", headers=bearer(revoked))
        assert me.json()["error"]["code"] == "token_revoked"


async def test_refresh_rotates_and_a_replay_ends_the_session(live: LiveServer) -> None:
    await live.register("carol")
    token, first = await login(live, "carol")
    turned = await refresh(live, first)
    assert turned.status_code == 200, turned.text
    assert set(turned.json()) == {"token", "expires_at"}
    second = refresh_cookie(turned)
    assert second != first and second.split(".")[0] == first.split(".")[0]
    third = refresh_cookie(await refresh(live, second))
    # The first cookie, long after its turn (no grace: generation two behind): a replay.
    replayed = await refresh(live, first)
    assert replayed.status_code == 401 and replayed.json()["error"]["code"] == "unauthorized"
    # The whole session is over: the newest cookie and every token of the session are refused.
    assert (await refresh(live, third)).status_code == 401
    me = await live.http.get("/api/users/me", headers=bearer(token))
    assert me.status_code == 401 and me.json()["error"]["code"] == "token_revoked"


async def test_two_tabs_refreshing_at_once_stay_signed_in(live: LiveServer) -> None:
    await live.register("dave")
    _, cookie = await login(live, "dave")
    answers = await asyncio.gather(*(refresh(live, cookie) for _ in range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    new_cookies = [refresh_cookie(a) for a in answers if COOKIE in a.headers.get("set-cookie", "")]
    assert len(new_cookies) == 1  # one turned it; the other got a token within the grace
    assert (await refresh(live, new_cookies[0])).status_code == 200
    for answer in answers:
        assert (
            await live.http.get("/api/users/me", headers=bearer(answer.json()["token"]))
        ).status_code == 200


async def test_bad_cookies_and_the_bearer_form(live: LiveServer) -> None:
    token = await live.register("erin")
    for bad in ["x", "a.b.c", "nosuch.1.secret", "a" * 40 + ".1.x"]:
        answer = await refresh(live, bad)
        assert answer.status_code == 401, bad
    assert (await live.http.post("/api/auth/refresh")).status_code == 401
    by_bearer = await live.http.post("/api/auth/refresh", headers=bearer(token))
    assert by_bearer.status_code == 200
    # A wrong secret of the current generation ends nothing.
    _, cookie = await login(live, "erin")
    sid, generation, _secret = cookie.split(".")
    assert (await refresh(live, f"{sid}.{generation}.wrong")).status_code == 401
    assert (await refresh(live, cookie)).status_code == 200


async def test_signing_a_session_out_closes_its_socket(live: LiveServer) -> None:
    await live.register("frank")
    laptop, _ = await login(live, "frank", "laptop")
    phone, _ = await login(live, "frank", "phone")
    on_laptop = await live.connect("frank", laptop)
    on_phone = await live.connect("frank", phone)
    listed = (await live.http.get("/api/users/me/sessions", headers=bearer(laptop))).json()
    mine = {s["user_agent"]: s["current"] for s in listed}
    assert mine == {"laptop": True, "phone": False}  # the sign-up opened none
    phone_id = next(s["id"] for s in listed if s["user_agent"] == "phone")
    gone = await live.http.delete(f"/api/users/me/sessions/{phone_id}", headers=bearer(laptop))
    assert gone.status_code == 204
    await closed(on_phone)
    assert on_laptop.connected
    refused = await live.http.get("/api/users/me", headers=bearer(phone))
    assert refused.json()["error"]["code"] == "token_revoked"
    again = await live.http.delete(f"/api/users/me/sessions/{phone_id}", headers=bearer(laptop))
    assert again.status_code == 404


async def test_logout_ends_only_the_current_session(live: LiveServer) -> None:
    await live.register("gina")
    one, cookie_one = await login(live, "gina")
    two, _ = await login(live, "gina")
    live.http.cookies.clear()
    out = await live.http.post(
        "/api/auth/logout", headers={**bearer(one), "cookie": f"{COOKIE}={cookie_one}"}
    )
    assert out.status_code == 204
    assert "max-age=0" in out.headers["set-cookie"].lower()
    assert (await live.http.get("/api/users/me", headers=bearer(one))).status_code == 401
    assert (await live.http.get("/api/users/me", headers=bearer(two))).status_code == 200
    assert (await refresh(live, cookie_one)).status_code == 401


async def test_change_password_signs_out_the_others_only(live: LiveServer) -> None:
    await live.register("hank")
    here, _ = await login(live, "hank")
    there, _ = await login(live, "hank")
    socket_there = await live.connect("hank", there)
    wrong = await live.http.post(
        "/api/users/me/password", json={"current": "nope-nope", "new": "another-pass"}, headers=bearer(here)
    )
    assert wrong.status_code == 403
    short = await live.http.post(
        "/api/users/me/password", json={"current": PASSWORD, "new": "short"}, headers=bearer(here)
    )
    assert short.status_code == 422 and short.json()["error"]["code"] == "invalid"
    changed = await live.http.post(
        "/api/users/me/password", json={"current": PASSWORD, "new": "another-pass"}, headers=bearer(here)
    )
    assert changed.status_code == 204
    await closed(socket_there)
    assert (await live.http.get("/api/users/me", headers=bearer(here))).status_code == 200
    assert (await live.http.get("/api/users/me", headers=bearer(there))).status_code == 401
    old = await live.http.post("/api/auth/login", json={"username": "hank", "password": PASSWORD})
    assert old.status_code == 401
    new = await live.http.post("/api/auth/login", json={"username": "hank", "password": "another-pass"})
    assert new.status_code == 200


async def verified(live: LiveServer, smtp: SmtpServer, token: str, address: str) -> None:
    put = await live.http.put("/api/users/me/email", json={"email": address}, headers=bearer(token))
    assert put.status_code == 200, put.text
    mail = await smtp.recorder.next()
    link = re.search(r"https?://\S+/api/users/me/email/verify\?token=\S+", mail.part("plain"))
    assert link is not None
    path = link.group(0).split("/api/", 1)[1]
    opened = await live.http.get(f"/api/{path}")
    assert opened.status_code < 400


async def test_password_reset_by_mail(live: LiveServer, smtp: SmtpServer) -> None:
    token = await live.register("iris")
    await verified(live, smtp, token, "iris@example.com")
    socket = await live.connect("iris", token)
    for body in [{"username": "nobody"}, {"email": "nobody@example.com"}, {"email": "IRIS@example.com"}]:
        answer = await live.http.post("/api/auth/password-reset", json=body)
        assert answer.status_code == 202
    mail = await smtp.recorder.next()
    assert mail.recipients == ["iris@example.com"]
    code = re.search(r"/#reset=([\w-]+)", mail.part("plain"))
    assert code is not None
    bad = await live.http.post(
        "/api/auth/password-reset/confirm", json={"code": "nope", "password": "fresh-pass"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
    done = await live.http.post(
        "/api/auth/password-reset/confirm", json={"code": code.group(1), "password": "fresh-pass"}
    )
    assert done.status_code == 204
    await closed(socket)
    assert (await live.http.get("/api/users/me", headers=bearer(token))).status_code == 401
    twice = await live.http.post(
        "/api/auth/password-reset/confirm", json={"code": code.group(1), "password": "fresh-pass2"}
    )
    assert twice.status_code == 422
    fresh = await live.http.post("/api/auth/login", json={"username": "iris", "password": "fresh-pass"})
    assert fresh.status_code == 200
    assert smtp.recorder.pending() == 0  # nothing to the unknown ones


async def test_reset_input_is_checked(live: LiveServer) -> None:
    for body in [{}, {"username": "a", "email": "a@example.com"}, {"username": 3}]:
        answer = await live.http.post("/api/auth/password-reset", json=body)
        assert answer.status_code == 422, body
