"""A backend's ten lines against Parley's server API (PROTOCOL.md section 17).

``PARLEY_SERVER_KEY=... python -m client_demo.backend lobby "deploy done"`` publishes into a
topic as the key's bot, then asks who in that topic is online (``PARLEY_URL``: the server,
``http://127.0.0.1:8000`` by default). A backend needs no socket and no user: a server key
(``parley keys create --label deploys``) is its credential.
"""

from __future__ import annotations

import os
import sys

import httpx

from client_demo.output import out


def main(topic: str, body: str) -> None:
    api = httpx.Client(
        base_url=os.environ.get("PARLEY_URL", "http://127.0.0.1:8000") + "/api/server",
        headers={"Authorization": f"Bearer {os.environ['PARLEY_SERVER_KEY']}"},
    )
    sent = api.post("/messages", json={"topic": topic, "body": body}).raise_for_status().json()
    out(f"published #{sent['seq']} in {topic} as {sent['sender']}")
    online = api.get(f"/topics/{topic}/presence").raise_for_status().json()
    out(f"{online['count']} online in {topic}: {', '.join(online['online']) or 'nobody'}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
