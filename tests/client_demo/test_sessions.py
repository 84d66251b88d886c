"""The client demo signs in with a stored session (PROTOCOL.md section 19, "Sessions that last"):
a password login keeps the refresh cookie in a file only its owner reads, the next start without
a password signs in with it (``POST /api/auth/refresh``, the cookie only) and stores the cookie
turned over, ``--logout`` ends the session on the server and deletes the file, and a session
signed out elsewhere is said and forgotten. A real server, the demo as a subprocess.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import Completed, demo_env, run_demo
from tests.support import PASSWORD, LiveServer, bearer
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases
COOKIE = "parley_refresh"


@pytest.fixture
def settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    # Tokens live 6 s, the notice 3 s before: a ``listen`` refreshes through the cookie soon.
    return settings_for(tmp_path / "data", token_ttl=6, expiry_notice=3.0)


@pytest.fixture
def session_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "parley-demo" / "session.json"


async def demo(live: LiveServer, session_file: Path, *args: str, stdin: str = "") -> Completed:
    """A one-shot run of the demo against ``live`` with its session kept in ``session_file``."""
    return await run_demo("--url", live.url, "--session-file", str(session_file), *args, stdin=stdin)


def stored(session_file: Path) -> dict[str, str]:
    data: dict[str, str] = json.loads(session_file.read_text())
    return data


async def sessions_of(live: LiveServer, username: str) -> list[str]:
    """The ids of ``username``'s open sessions."""
    token = (await live.chat.users.issue_token(username)).token
    listed = await live.http.get("/api/users/me/sessions", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    return [str(session["id"]) for session in listed.json()]


async def refresh(live: LiveServer, cookie: str) -> httpx.Response:
    live.http.cookies.clear()
    return await live.http.post("/api/auth/refresh", headers={"cookie": f"{COOKIE}={cookie}"})


async def signed_in(live: LiveServer, session_file: Path, username: str = "alice") -> dict[str, str]:
    """``username`` registered, then signed in by the demo with the password: what it stored."""
    await live.register(username)
    first = await demo(live, session_file, "--user", username, "--password-stdin", "topics", stdin=PASSWORD)
    assert first.code == 0, first
    return stored(session_file)


async def test_a_password_login_keeps_the_cookie_in_a_private_file(live_server, session_file):
    kept = await signed_in(live_server, session_file)

    assert kept["url"] == live_server.url and kept["username"] == "alice"
    assert kept["cookie"].count(".") == 2
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(session_file.parent.stat().st_mode) == 0o700
    assert [entry.name for entry in session_file.parent.iterdir()] == [session_file.name]  # no leftovers
    # The sign-up (``live_server.register``) opened no session; the demo's login opened this one.
    assert kept["cookie"].split(".")[0] in await sessions_of(live_server, "alice")


async def test_the_next_start_signs_in_with_the_stored_session_and_stores_the_turned_cookie(
    live_server, session_file
):
    kept = await signed_in(live_server, session_file)

    again = await demo(live_server, session_file, "topics")  # no user, no password, no terminal

    assert again.code == 0, again
    turned = stored(session_file)["cookie"]
    session_id, generation, _ = turned.split(".")
    assert session_id == kept["cookie"].split(".")[0] and generation == "2"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert len(await sessions_of(live_server, "alice")) == 1  # the first sign-in's: no new login
    # The cookie the demo held before is spent: presented again it would be a replay.
    assert (await demo(live_server, session_file, "--user", "alice", "topics")).code == 0
    assert stored(session_file)["cookie"].split(".")[1] == "3"


async def test_logout_ends_the_session_on_the_server_and_deletes_the_file(live_server, session_file):
    kept = await signed_in(live_server, session_file)

    out = await demo(live_server, session_file, "--logout")

    assert out.code == 0, out
    assert any("signed out 'alice'" in line for line in out.err), out
    assert not session_file.exists()
    assert (await refresh(live_server, kept["cookie"])).status_code == 401
    assert kept["cookie"].split(".")[0] not in await sessions_of(live_server, "alice")
    # With nothing stored, a start without a password asks for one (stdin is no terminal here).
    nothing = await demo(live_server, session_file, "topics")
    assert nothing.code == 2 and any("usage:" in line for line in nothing.err), nothing
    twice = await demo(live_server, session_file, "--logout")
    assert twice.code == 0 and any("no stored session" in line for line in twice.err), twice


async def test_a_session_signed_out_elsewhere_is_said_and_forgotten(live_server, session_file):
    kept = await signed_in(live_server, session_file)
    token = (await live_server.chat.users.issue_token("alice")).token
    session_id = kept["cookie"].split(".")[0]
    gone = await live_server.http.delete(f"/api/users/me/sessions/{session_id}", headers=bearer(token))
    assert gone.status_code == 204

    refused = await demo(live_server, session_file, "topics")

    assert refused.code == 1, refused
    assert any("unauthorized" in line and "sign in with the password" in line for line in refused.err), (
        refused
    )
    assert not session_file.exists()
    back = await demo(
        live_server, session_file, "--user", "alice", "--password-stdin", "topics", stdin=PASSWORD
    )
    assert back.code == 0 and stored(session_file)["cookie"] != kept["cookie"], back


async def test_a_stored_session_is_for_its_server_and_user_only(live_server, session_file):
    await signed_in(live_server, session_file)
    await live_server.register("bob")

    as_bob = await demo(live_server, session_file, "--user", "bob", "topics")  # alice's is not bob's

    assert as_bob.code == 2, as_bob  # bob needs his password: none given, no terminal
    assert stored(session_file)["username"] == "alice"
    elsewhere = await run_demo(
        "--url", "http://127.0.0.1:9", "--session-file", str(session_file), "topics", env=demo_env()
    )
    assert elsewhere.code == 2, elsewhere  # another server: nothing stored for it
    assert stored(session_file)["username"] == "alice"


async def test_a_long_listen_refreshes_through_the_cookie_and_keeps_each_new_one(
    live_server, session_file, spawn: Spawn
):
    kept = await signed_in(live_server, session_file)

    listening = await spawn("--session-file", str(session_file), "listen", "--topic", "lobby")
    await listening.expect("listening on lobby", stream="err")
    start = int(stored(session_file)["cookie"].split(".")[1])
    await listening.expect("token refreshed, valid until", stream="err")
    await listening.expect("token refreshed, valid until", stream="err")

    newest = stored(session_file)["cookie"]
    assert int(newest.split(".")[1]) >= start + 2  # each refresh turned the cookie over, stored
    assert newest.split(".")[0] == kept["cookie"].split(".")[0]
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert (await refresh(live_server, newest)).status_code == 200  # the stored one is the live one
