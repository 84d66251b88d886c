"""python-socketio's client libraries stay unloaded in a server, and load in full at their first use.

Each case runs in a fresh interpreter: this test process has imported them already (its clients).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support import LiveServer

ROOT = Path(__file__).parents[3]
CLIENT_LIBRARIES = ("aiohttp", "yarl", "multidict", "requests", "urllib3")


def _python(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter of this venv; the JSON it printed last."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


async def _python_beside(code: str) -> dict[str, object]:
    """``_python`` without blocking this loop (a live server of the test runs on it)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", textwrap.dedent(code), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    found: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    return found


def test_a_server_built_after_the_deferral_has_loaded_none_of_the_client_libraries(tmp_path: Path):
    found = _python(
        f"""
        import json, sys
        from server.edge.engine.lazy_clients import defer_client_libraries
        deferred = defer_client_libraries()
        from server.app import create_app
        from server.config import Settings
        create_app(Settings(data_dir={str(tmp_path / "data")!r}))  # its secrets are made there
        loaded = [name for name in {CLIENT_LIBRARIES!r} if name in sys.modules and not
                  type(sys.modules[name]).__name__ == "_Deferred"]
        print(json.dumps({{"deferred": deferred, "loaded": loaded}}))
        """
    )
    assert found == {"deferred": ["aiohttp", "requests"], "loaded": []}


async def test_a_socketio_client_made_after_the_deferral_connects_with_the_real_library(
    live_server: LiveServer,
):
    token = await live_server.register("ann")
    found = await _python_beside(
        f"""
        import asyncio, json, sys
        from server.edge.engine.lazy_clients import defer_client_libraries, is_deferred
        defer_client_libraries()
        import socketio

        async def main():
            client = socketio.AsyncClient(reconnection=False)
            await client.connect(
                {live_server.url!r}, namespaces=["/echo"], transports=["polling"], auth={{"token": {token!r}}}
            )
            answer = await client.call("echo", "through aiohttp", namespace="/echo", timeout=10)
            await client.disconnect()
            return answer

        answer = asyncio.run(main())
        print(json.dumps({{"answer": answer, "still_deferred": is_deferred("aiohttp"),
                          "real": sys.modules["aiohttp"].__file__}}))
        """
    )
    assert found["answer"] == "through aiohttp"
    assert found["still_deferred"] is False
    assert str(found["real"]).endswith("aiohttp/__init__.py")


def test_an_import_of_a_deferred_library_finds_its_spec_and_its_names():
    found = _python(
        """
        import importlib.util, json
        from server.edge.engine.lazy_clients import defer_client_libraries, is_deferred
        defer_client_libraries()
        spec_origin = importlib.util.find_spec("requests").origin
        before = is_deferred("requests")
        from requests import Session
        print(json.dumps({"origin": spec_origin, "before": before, "after": is_deferred("requests"),
                          "session": Session.__module__}))
        """
    )
    assert str(found["origin"]).endswith("requests/__init__.py")
    assert found["before"] is True
    assert found["after"] is False
    assert found["session"] == "requests.sessions"
