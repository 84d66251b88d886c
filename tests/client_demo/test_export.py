"""The client demo's ``/export [PATH]`` (PROTOCOL.md section 16): it asks for the export, waits
while the server builds it and saves the ZIP where it says; a second one within the hour is the
server's ``rate_limited``, shown as an error, and the REPL goes on."""

from __future__ import annotations

from pathlib import Path

from tests.client_demo.conftest import Spawn
from tests.client_demo.demo import run_demo
from tests.client_demo.test_oneshot import login_args
from tests.exports_support import read
from tests.support import PASSWORD, LiveServer


async def test_export_saves_the_zip_where_it_says(
    live_server: LiveServer, spawn: Spawn, tmp_path: Path
) -> None:
    alice = await spawn("--user", "alice", "--password-stdin", "--register")
    await alice.write(PASSWORD)
    await alice.expect("type /help")
    await alice.write("/join lobby")
    await alice.expect("joined lobby")
    await alice.write("for the record")
    await alice.expect("alice: for the record")
    target = tmp_path / "mine.zip"
    await alice.write(f"/export {target}")
    await alice.expect(f"saved {target}")
    export = read(target.read_bytes())
    assert [line["body"] for line in export.messages] == ["for the record"]
    assert export.profile["username"] == "alice"

    await alice.write(f"/export {tmp_path / 'again.zip'}")
    assert (await alice.expect("error:", stream="err")).startswith("error: rate_limited: ")
    assert not (tmp_path / "again.zip").exists()
    await alice.write("/quit")
    await alice.expect("bye")
    assert await alice.wait() == 0, alice.transcript()
    assert not any("Traceback" in line for line in alice.err)


async def test_the_one_shot_export_saves_the_zip(live_server: LiveServer, tmp_path: Path) -> None:
    await live_server.register("bob")
    target = tmp_path / "bob.zip"
    done = await run_demo(*login_args(live_server, "bob"), "export", str(target), stdin=PASSWORD + "\n")
    assert (done.code, done.out) == (0, [f"saved {target}"]), done.err
    assert read(target.read_bytes()).profile["username"] == "bob"
    again = await run_demo(*login_args(live_server, "bob"), "export", stdin=PASSWORD + "\n")
    assert again.code != 0 and any(line.startswith("error: rate_limited: ") for line in again.err)
