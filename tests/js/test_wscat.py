"""The real ``wscat`` from npm runs one scripted session against the topics dialect (PROTOCOL.md 7.1).

wscat is what the topics service's users drive it with: ``wscat -c ws://HOST/compat/topics/<JWT>``,
then JSON frames typed in. Here the frames are ``-x`` commands; the last one asks the server to
close, which ends wscat (``-w`` only bounds how long it may wait).
"""

from __future__ import annotations

import json

import pytest

from tests.js.conftest import JS_DIR, run_script
from tests.support import LiveServer, send

pytestmark = pytest.mark.node


@pytest.mark.timeout(300)  # a first run includes npm ci
async def test_a_wscat_session_against_the_topics_gateway(node: str, live_server: LiveServer) -> None:
    token = await live_server.register("alice")
    bob = await live_server.user("bob")
    await bob.ok("topic:create", {"name": "news"})
    waiting = await send(bob, {"to": "alice", "body": "while you were out"})
    assert [m["id"] for m in bob.pending("message")] == [waiting["id"]]  # his own, before its ack
    frames = [
        {"action": "suscribe", "topic_name": "news"},
        {"action": "message", "topic_name": "news", "content": "hello from wscat"},
        {"action": "disconnect"},
    ]
    commands = [arg for frame in frames for arg in ("-x", json.dumps(frame))]
    url = live_server.url.replace("http://", "ws://") + f"/compat/topics/{token}"
    wscat = str(JS_DIR / "node_modules" / "wscat" / "bin" / "wscat")

    returncode, stdout, stderr = await run_script(
        node, wscat, "--no-color", "-c", url, *commands, "-w", "10", limit=30.0, terminal=True
    )

    report = f"stdout:\n{stdout}\nstderr:\n{stderr}"
    assert returncode == 0, report
    received = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert received, report
    assert received[0] == {"action": "connected", "ok": True, "data": {"username": "alice"}}, report
    assert received[1]["action"] == "message" and received[1]["id"] == waiting["id"], report
    assert received[1]["topic_name"] == "bob" and received[1]["content"] == "while you were out"
    answers = {frame["action"]: frame for frame in received if "ok" in frame}
    assert answers["suscribe"]["ok"] is True and answers["suscribe"]["data"]["topic"]["name"] == "news"
    assert answers["message"]["ok"] is True and answers["message"]["data"]["body"] == "hello from wscat"
    assert answers["disconnect"] == {"action": "disconnect", "ok": True, "data": None}
    event = await bob.next("message")
    assert (event["topic"], event["sender"], event["body"]) == ("news", "alice", "hello from wscat")
