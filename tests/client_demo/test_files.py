"""The client demo's files (PROTOCOL.md section 11): ``/upload PATH [TEXT]`` sends a file to the
current conversation, ``/download ID [PATH]`` saves one, and messages show their files (name,
size, id, URL)."""

from __future__ import annotations

from pathlib import Path

from client_demo.render import file_lines, human_size, message_line
from tests.client_demo.conftest import Spawn
from tests.files_support import png, uploaded
from tests.support import PASSWORD, LiveServer, send


async def test_upload_then_download_through_the_repl(live_server: LiveServer, spawn: Spawn, tmp_path: Path):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"the plan, in writing\n")
    alice = await spawn("--user", "alice", "--password-stdin", "--register")
    await alice.write(PASSWORD)
    await alice.expect("type /help")
    bob = await live_server.user("bob")
    await alice.write("/join lobby")
    await alice.expect("joined lobby")
    await alice.write(f"/upload {notes} read this")
    await alice.expect("[lobby #1] alice: read this")
    shown = await alice.expect("[file] notes.txt (21 B) id ")
    received = await bob.next("message")
    [found] = received["files"]
    assert f"id {found['id']} /api/files/{found['id']}" in shown
    assert received["body"] == "read this"

    bob_token = await live_server.register("carol")
    picture = await uploaded(live_server, bob_token, png(64, 32), "pic.png")
    carol = await live_server.connect("carol", bob_token)
    await send(carol, {"topic": "lobby", "body": "", "files": [picture["id"]]})
    line = await alice.expect("[lobby #2] carol:")
    assert "(deleted)" not in line
    await alice.expect(f"[file] pic.png ({picture['size']} B, image 64x32) id {picture['id']}")

    target = tmp_path / "saved.png"
    await alice.write(f"/download {picture['id']} {target}")
    await alice.expect(f"saved {target}")
    assert target.read_bytes() == png(64, 32)
    await alice.write(f"/download {'0' * 32} {tmp_path / 'none'}")
    assert (await alice.expect("error:", stream="err")).startswith("error: not_found: ")
    await alice.write(f"/upload {tmp_path / 'missing.txt'}")
    await alice.expect("usage: no file at", stream="err")
    await alice.write("/quit")
    await alice.expect("bye")
    assert await alice.wait() == 0, alice.transcript()
    assert not any("Traceback" in line for line in alice.err)


def test_a_message_shows_each_file_on_its_own_line() -> None:
    message = {
        "id": 7,
        "topic": "lobby",
        "seq": 3,
        "sender": "bob",
        "body": "",
        "created_at": "2026-11-23T10:00:00Z",
        "edited_at": None,
        "files": [
            {
                "id": "a" * 32,
                "name": "r\x1b[31mport.pdf",
                "size": 12_345,
                "url": "/api/files/" + "a" * 32,
                "image": None,
            },
            {
                "id": "b" * 32,
                "name": "cat.png",
                "size": 3 * 1024 * 1024,
                "url": "/api/files/" + "b" * 32,
                "image": {"width": 640, "height": 480},
            },
        ],
    }
    lines = message_line(message).split("\n")
    assert lines[0].endswith("bob:   (id 7)")
    assert "\x1b" not in lines[1]  # a name cannot drive the terminal
    assert lines[1].strip().startswith("[file] r")
    assert "(12.1 KiB) id " + "a" * 32 in lines[1]
    assert lines[2].strip() == f"[file] cat.png (3.0 MiB, image 640x480) id {'b' * 32} /api/files/{'b' * 32}"
    assert file_lines({"files": "nonsense"}) == []
    assert human_size(512) == "512 B"
