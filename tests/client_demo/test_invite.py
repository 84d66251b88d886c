"""The client demo signs up with an invitation (PROTOCOL.md section 19): ``--invite`` takes a code
or the link an admin shares (``/#invite=CODE``), on an invite-only workspace."""

from __future__ import annotations

from pathlib import Path

from tests.client_demo.demo import demo_env, run_demo
from tests.support import PASSWORD, LiveServer, bearer


async def test_signing_up_with_an_invitation_link(live_server: LiveServer, tmp_path: Path) -> None:
    owner = bearer(await live_server.register("olive"))
    assert (
        await live_server.http.patch("/api/admin/settings", headers=owner, json={"registration": "invite"})
    ).status_code == 200
    env = demo_env(PARLEY_SESSION_FILE=str(tmp_path / "session.json"))
    common = ("--url", live_server.url, "--user", "nora", "--password-stdin")
    refused = await run_demo(
        *common, "--register", "send", "--topic", "lobby", "hi", stdin=PASSWORD + "\n", env=env
    )
    assert refused.code != 0 and any("invit" in line for line in refused.err), refused
    made = await live_server.http.post("/api/invites", headers=owner, json={})
    link = f"{live_server.url}{made.json()['url']}"
    joined = await run_demo(
        *common, "--invite", link, "send", "--topic", "lobby", "hi", stdin=PASSWORD + "\n", env=env
    )
    assert joined.code == 0, joined
    async with live_server.chat.db.read() as repos:
        assert await repos.users.by_name("nora") is not None
