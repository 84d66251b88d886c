"""/delete-account in the interactive client (PROTOCOL.md section 16), against a real server: the
username typed out, then the password; a mismatch or a wrong password deletes nothing and the
session goes on; the right ones erase the account and end the session."""

from __future__ import annotations

from tests.client_demo.conftest import Spawn
from tests.contract import assert_error
from tests.erasure_support import until_erased, user_id_of
from tests.support import PASSWORD, LiveServer, bearer


async def test_delete_account_asks_name_and_password_then_ends_the_session(
    live_server: LiveServer, spawn: Spawn
) -> None:
    token = await live_server.register("alice")
    user_id = await user_id_of(live_server, "alice")
    alice = await spawn("--token", token)
    await alice.expect("type /help")

    await alice.write("/delete-account")
    await alice.write("bob")
    await alice.expect("not deleted: the username did not match")
    await alice.write("/delete-account")
    await alice.write("alice")
    await alice.write("not-the-password")
    assert "wrong password: nothing was deleted" in await alice.expect("unauthorized", stream="err")
    assert (await live_server.http.get("/api/users/me", headers=bearer(token))).status_code == 200

    await alice.write("/delete-account")
    await alice.write("alice")
    await alice.write(PASSWORD)
    await alice.expect("account alice deleted")
    assert await alice.wait() == 0
    await until_erased(live_server, user_id)
    login = await live_server.http.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert_error(login, 401, "unauthorized")
